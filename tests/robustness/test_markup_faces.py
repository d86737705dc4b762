"""Rich/Textual markup in strings from outside shows literally on every face, and never crashes one.

A process, a NIC, a GPU, a host or a recording can be named `[bold]x[/]`, `[/]` (which Textual's
markup parser refuses with MarkupError) or `[@click=app.quit]` (a markup action). Each face is
driven the way the string enters in life (store details and keys, a recording's meta and timeline,
the current directory of a recording started with `r`) and the rendered screen must show the
brackets as typed.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.store.reader import open_recording
from perftui.ui.app import PerftuiApp
from tests.fixtures.bad_files import copy_fixture
from tests.ui.conftest import make_app
from tests.ui.test_process_pane import attach_store

MARKUP = "[bold]B[/]x[/][@click=app.quit]Q"


def screen_text(app: PerftuiApp) -> str:
    """What the terminal shows, as plain text (the SVG screenshot without its tags)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def _shown(text: str, prefix: str) -> bool:
    """`prefix + MARKUP` shows with every bracket as typed (a narrow column may cut it after `[bold]`)."""
    literal = prefix + MARKUP
    return any(literal[:n] in text for n in (len(literal), len(prefix) + 6))


async def test_dashboard_host_gpu_nic_and_gpu_processes() -> None:
    app, store, _ = make_app(1, hostname="host" + MARKUP)
    store.set_detail("gpu.0.info", {"name": "gpu" + MARKUP, "memory_total_bytes": 80 * 2**30})
    ts, vals = store.series("net.eth0.rx_bytes_per_s")
    store.extend("net.nic" + MARKUP + ".rx_bytes_per_s", ts, vals)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    assert _shown(text, "host") and _shown(text, "gpu") and _shown(text, "nic")
    assert "hostBx" not in text  # the markup was not applied


async def test_process_tree_and_stacks() -> None:
    app, store, _ = make_app(1)
    assert store.last_ts is not None
    attach_store(store, store.last_ts)
    tree = store.detail("proc.tree")
    assert isinstance(tree, list)
    tree[0]["name"] = "proc" + MARKUP
    store.set_detail("proc.tree", tree)
    top = store.detail("stack.top")
    assert isinstance(top, list)
    top[0]["function"] = "fn" + MARKUP
    store.set_detail("stack.top", top)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        assert _shown(screen_text(app), "proc")
        await pilot.press("v")
        await pilot.pause()
        assert _shown(screen_text(app), "fn")
        assert app.is_running  # [@click=app.quit] did not become an action


def _markup_recording(tmp_path: Path) -> Path:
    path = copy_fixture(tmp_path, "base.sqlite").rename(tmp_path / "markup.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'host'", (json.dumps("host" + MARKUP),))
    return path


async def test_replay_header(tmp_path: Path) -> None:
    from perftui.ui.app import create_replay_app
    from perftui.ui.options import AppOptions, TestKnobs
    from perftui.ui.replay import ReplayDriver

    rec = open_recording(_markup_recording(tmp_path))
    app = create_replay_app(
        ReplayDriver(rec, speed=1.0), AppOptions(theme="perftui-dark"), TestKnobs(live_timer=False)
    )
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        app.dashboard.replay_step(30.0)
        await pilot.pause()
        text = screen_text(app)
        assert app.is_running
    assert _shown(text, "host")


@pytest.fixture
def markup_cwd(tmp_path: Path) -> Iterator[Path]:
    # the full path holds "a[/]b": "[/]" alone makes Textual's markup parser raise MarkupError
    where = tmp_path / "a[" / "]b[@click=app.quit]"
    where.mkdir(parents=True)
    old = os.getcwd()
    os.chdir(where)
    try:
        yield where
    finally:
        os.chdir(old)


async def test_notifications_show_paths_literally(markup_cwd: Path) -> None:
    """`r` records into the current directory and says where in a toast: a path is not markup
    (before, Textual raised MarkupError on the `[/]` while drawing the toast, taking the app down)."""
    app, _, _ = make_app(1)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause(0.3)
        assert list(markup_cwd.glob("*.sqlite"))
        text = screen_text(app)
        assert app.is_running
        assert "recording to" in text and "a[/]" in text and "[@click" in text
        await pilot.press("r")  # stop: the "saved ... to PATH" toast
        await pilot.pause(0.3)
        assert app.is_running
