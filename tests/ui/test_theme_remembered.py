"""The theme picked with `t` or the palette is written to the config file and used at the next start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perftui.config import THEME_NAMES, load_config
from perftui.ui import themes
from perftui.ui.themes import all_theme_names
from tests.cli_run import perftui
from tests.ui.conftest import make_app


async def test_t_saves_the_theme_in_the_config_keeping_the_rest(tmp_path: Path) -> None:
    cfg = tmp_path / "perftui" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('# mine\ninterval = 2.0\ntheme = "perftui-dark"  # was\n\n[serving]\nurls = []\n')
    app, _, _ = make_app(0, config_file=cfg)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert load_config(cfg).theme == "perftui-dark"  # starting does not write
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "perftui-light"
        assert load_config(cfg).theme == "perftui-light"
        app.theme = "nord"  # what the palette's theme picker does
        await pilot.pause()
    text = cfg.read_text()
    assert text == '# mine\ninterval = 2.0\ntheme = "nord"\n\n[serving]\nurls = []\n'
    again, _, _ = make_app(0, theme=load_config(cfg).theme)
    async with again.run_test(size=(120, 40)) as pilot:
        assert again.theme == "nord"


async def test_a_new_config_file_is_created_and_a_broken_one_left_alone(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "config.toml"
    app, _, _ = make_app(0, config_file=fresh)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await pilot.pause()
    assert fresh.read_text() == 'theme = "perftui-light"\n'

    broken = tmp_path / "broken.toml"
    broken.write_text("interval = [oops\n")
    app, _, _ = make_app(0, config_file=broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "perftui-light"  # the theme changes anyway
        assert any("theme not remembered" in str(n.message) for n in app._notifications)
    assert broken.read_text() == "interval = [oops\n"


async def test_without_a_config_file_option_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PERFTUI_CONFIG", str(tmp_path / "config.toml"))
    app, _, _ = make_app(0)  # tests, screenshots, benchmarks: options.config_file is None
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "perftui-light"
    assert not list(tmp_path.iterdir())


def test_the_help_lists_every_theme_an_install_has() -> None:
    package_themes = Path(themes.__file__).resolve().parent.parent / "themes"
    assert list(THEME_NAMES) == all_theme_names(themes.load_themes([package_themes]))


def test_help_names_the_themes() -> None:
    for args in (("--help",), ("replay", "--help")):
        out = perftui(*args, env={**os.environ, "COLUMNS": "1000"})  # argparse breaks lines at hyphens
        assert out.returncode == 0
        flat = " ".join(out.stdout.split())
        for name in ("perftui-dark", "perftui-light", "textual-dark", "nord", "gruvbox"):
            assert name in flat, (args, name)
