"""A browser tab (`perftui web` without --allow-actions) does not act on the server box: the process
list's `k` (signal) and `a` (attach py-spy) are refused with one line, and a theme picked with `t`
applies but is not written to the config file. The same keys work outside browser mode."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.ui.options import WEB_ACTIONS_ENV
from perftui.ui.screens.kill import KillScreen
from tests.ui.conftest import make_app
from tests.ui.test_process_list import TABLE, list_app, notes_of, pane_of, real_row

REFUSED = "is off in browser mode (start perftui web with --allow-actions)"


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)\n"])
    yield child
    child.kill()
    child.wait()


@pytest.fixture
def browser_tab(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `perftui web` sets for each tab's perftui when not started with --allow-actions."""
    monkeypatch.setenv(WEB_ACTIONS_ENV, "0")


@pytest.mark.usefixtures("browser_tab")
async def test_kill_is_refused_in_a_browser_tab(sleeper: subprocess.Popen[bytes]) -> None:
    app, _ = list_app(1, [real_row(sleeper, "victim"), *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane_of(app).focus()
        current = pane_of(app).plist.current
        assert current is not None and current.pid == sleeper.pid
        await pilot.press("k", "y", "k", "K", "y")
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen)
        assert notes and all(n == f"killing a process {REFUSED}" for n in notes), notes
    assert sleeper.poll() is None  # no signal reached it


@pytest.mark.usefixtures("browser_tab")
async def test_attach_is_refused_in_a_browser_tab(sleeper: subprocess.Popen[bytes]) -> None:
    app, store = list_app(1, [real_row(sleeper, "victim"), *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane_of(app).focus()
        await pilot.press("a")
        await pilot.pause()
        assert notes == [f"attaching to a process {REFUSED}"]
        assert not pane_of(app).attached and app.session.live_pid is None
        assert store.status("process") is None  # no attach sampler started


async def test_outside_the_browser_kill_asks(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: with --allow-actions (or no browser at all) `k` opens the confirmation."""
    monkeypatch.setenv(WEB_ACTIONS_ENV, "1")
    app, _ = list_app(1, [real_row(sleeper, "victim"), *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane_of(app).focus()
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, KillScreen) and not notes
        await pilot.press("n")
        await pilot.pause()
    assert sleeper.poll() is None


@pytest.mark.usefixtures("browser_tab")
async def test_theme_applies_in_a_browser_tab_but_the_config_is_not_written(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('theme = "perftui-dark"\n')
    fresh = tmp_path / "absent" / "config.toml"
    for path in (cfg, fresh):
        app, _, _ = make_app(0, config_file=path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("t")
            await pilot.pause()
            assert app.theme == "perftui-light"  # the tab's theme changes
            app.theme = "nord"  # the palette's picker
            await pilot.pause()
            assert app.theme == "nord"
    assert cfg.read_text() == 'theme = "perftui-dark"\n'
    assert not fresh.parent.exists()


async def test_theme_is_saved_with_allow_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEB_ACTIONS_ENV, "1")
    cfg = tmp_path / "config.toml"
    app, _, _ = make_app(0, config_file=cfg)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await pilot.pause()
    assert cfg.read_text() == 'theme = "perftui-light"\n'
