"""Pilot tests of the process pane's full view (Enter): the whole list, tree or stacks, current on each
tick, closed by Escape or Enter. The tables are what the samplers publish (the process list's rows are
real ProcRow values; the tree and stacks details as in tests/ui/test_process_pane.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from perftui.core.types import SourceStatus
from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp
from perftui.ui.screens.help import PROCESS_KEYS, help_text
from perftui.ui.screens.processes import ProcessesScreen
from perftui.ui.widgets.process_pane import ProcessPane
from perftui.ui.widgets.stack_processes import MAX_ROWS
from tests.ui.conftest import make_app
from tests.ui.test_process_list import TABLE, list_app, publish, row
from tests.ui.test_process_pane import PID, attach_store

POD = "pod 7c1e2a3b-0d4f-4e5a-9b6c container 3f2a9c1b7d4e"  # longer than the pane's container column
MANY = [*TABLE, *(row(7000 + i, f"worker{i}", 1.0, 0.1, cmdline=f"worker --shard {i}") for i in range(60))]
MANY[3] = dataclasses.replace(MANY[3], container=POD)


def pane_of(app: PerftuiApp) -> ProcessPane:
    return app.query_one(ProcessPane)


def full_of(app: PerftuiApp) -> ProcessesScreen:
    screen = app.screen
    assert isinstance(screen, ProcessesScreen), screen
    return screen


def row_pids(lines: list[str]) -> list[int]:
    return [int(ln.split()[0]) for ln in lines if ln.split() and ln.split()[0].isdigit()]


async def test_enter_on_the_list_shows_every_row_uncut_and_follows_the_ticks() -> None:
    app, store = list_app(1, MANY)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        pane.focus()
        await pilot.press("down")
        await pilot.pause()
        shown_in_pane = row_pids(pane.lines)
        assert len(shown_in_pane) < len(MANY)  # the pane has room for a few
        assert POD not in "\n".join(pane.lines)  # cut there with …
        await pilot.press("enter")
        await pilot.pause()
        full = full_of(app)
        assert full.title_text == "Processes (65) · by CPU"
        assert row_pids(full.lines) == [r.pid for r in sorted(MANY, key=lambda r: (-r.cpu_pct, r.pid))]
        head = full.lines[0]
        for col in ("PID", "USER", "CPU%", "RSS", "GPU mem", "SM%", "DISK", "CONTAINER", "COMMAND"):
            assert col in head
        assert any(POD in ln and ln.endswith("postgres") for ln in full.lines)
        assert any(ln.endswith("worker --shard 59") for ln in full.lines)
        selected = [ln for ln, part in zip(full.lines, full.shown or [], strict=True) if part[0][1] == "sel"]
        assert [int(ln.split()[0]) for ln in selected] == [4243]  # the pane's selection
        # a tick: 4242 exited, a new process came: the open view follows
        publish(store, [r for r in MANY if r.pid != 4242] + [row(9999, "newcomer", 300.0, 1.0)])
        app.dashboard.refresh_view()
        await pilot.pause()
        assert row_pids(full.lines)[0] == 9999 and 4242 not in row_pids(full.lines)
        assert full.title_text == "Processes (65) · by CPU"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard and not isinstance(app.screen, ProcessesScreen)
        await pilot.press("enter")  # Enter opens and Enter closes
        await pilot.pause()
        assert isinstance(app.screen, ProcessesScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.dashboard
        publish(store, MANY)  # closed: the pane no longer feeds it
        app.dashboard.refresh_view()
        await pilot.pause()


def big_tree_app(children: int = 40) -> tuple[PerftuiApp, MetricStore]:
    app, store, _ = make_app(1)
    assert store.last_ts is not None
    attach_store(store, store.last_ts)
    tree = list(store.detail("proc.tree"))
    tree += [
        {"pid": 8000 + i, "ppid": PID, "name": f"w{i}", "cpu": 50.0, "rss": 1e8, "state": "running"}
        for i in range(children)
    ]
    store.set_detail("proc.tree", tree)
    threads: list[dict[str, Any]] = [
        {"pid": 8000 + i, "tid": 9000 + i, "name": "MainThread", "samples": 100.0 - i, "category": "compute"}
        for i in range(MAX_ROWS + 4)
    ]
    threads[0]["leaf"] = "work (/srv/jobs/job.py:7)"
    store.set_detail("stack.threads", threads)
    store.append(store.last_ts + 1, {"stack.share.socket_wait": 3.0, "stack.samples": 200.0})
    return app, store


async def test_enter_on_the_tree_shows_the_whole_tree_and_v_switches_to_the_full_stacks() -> None:
    app, _ = big_tree_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        assert pane.attached and pane.view == "tree"
        pane.focus()
        await pilot.press("enter")
        await pilot.pause()
        full = full_of(app)
        assert full.title_text == "Process tree"
        pids = set(row_pids(full.lines))
        assert {PID, 4250, 4251, 4260} | {8000 + i for i in range(40)} <= pids
        assert full.lines[0].startswith(f"PID {PID} python")
        await pilot.press("v")  # the app's key: the pane switches, the view follows
        await pilot.pause()
        assert (pane.view, full.title_text) == ("stacks", "Stacks")
        text = "\n".join(full.lines)
        # every category (the pane shows 4), every sampled process (the pane shows MAX_ROWS), full paths
        for cat in ("dataloader", "compute", "cuda_sync", "idle", "socket_wait"):
            assert any(ln.startswith(cat) for ln in full.lines), cat
        assert all(f"{8000 + i:>7} " in text for i in range(MAX_ROWS + 4))
        assert "more processes sampled" not in text
        assert "/x/torch/utils/data/dataloader.py:1133" in text and "/work/model.py:88" in text
        pane_text = "\n".join(pane.lines)
        assert "socket_wait" not in pane_text and "more processes sampled" in pane_text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_the_full_tree_says_when_the_process_exits() -> None:
    app, store = big_tree_app(3)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        pane_of(app).focus()
        await pilot.press("enter")
        await pilot.pause()
        full = full_of(app)
        assert "CPU 166%" in full.lines[0]
        msg = f"process {PID} exited with status 0 at 12:00:05"
        store.set_status("process", SourceStatus.unavailable(msg))
        store.set_detail("proc.info", {**store.detail("proc.info"), "status": "exited", "exit_code": 0})
        store.set_detail("proc.tree", [])
        assert store.last_ts is not None
        store.append(store.last_ts + 1, {"cpu.util": 10.0})
        app.dashboard.refresh_view()
        await pilot.pause()
        assert full.lines[0] == f"PID {PID} python · exited (status 0)" and msg in full.lines


def test_help_lists_the_process_list_keys_and_the_page_keys() -> None:
    keys = {k: d for k, d in PROCESS_KEYS}
    assert {"↑ / ↓", "o", "/", "a", "k"} <= set(keys)
    assert "SIGKILL" in keys["k"] and "sort" in keys["o"] and "filter" in keys["/"]
    text = help_text()
    assert "Processes pane, the process list" in text and "  pgup / pgdn" in text
    assert "full view on Diagnosis / Processes" in text


async def test_pagedown_scrolls_the_attached_tree_in_the_pane() -> None:
    app, _ = big_tree_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        pane.focus()
        await pilot.pause()
        assert pane.top == 0 and len(pane.plain_lines) > pane.content_size.height
        await pilot.press("pagedown")
        await pilot.pause()
        assert pane.top > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert pane.top == 0
