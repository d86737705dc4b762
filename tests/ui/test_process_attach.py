"""Attach live from the process list and detach back to it, against real processes the test starts:
a busy Python spinner tops the real process table, `a` starts the process/stacks samplers without
restarting the dashboard, `a` again detaches; a PID reused between listing and attaching is refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from perftui.core.proctable_record import DETAIL_KEY
from perftui.samplers.proctable_sampler import ProcTableSampler
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp, create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.widgets.process_pane import ProcessPane
from tests.polling import wait_for
from tests.ui.fakes import HOSTNAME, fill_store

SPIN = "while True:\n    pass\n"


@pytest.fixture
def spinner() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", SPIN])
    yield child
    child.kill()
    child.wait()


def live_app(spinner_pid: int) -> tuple[PerftuiApp, MetricStore, SamplerRunner]:
    """The real process table, sampled until the spinner tops it (the CPU is shared with others)."""
    store = MetricStore()
    fill_store(store, 0, seconds=30)
    runner = SamplerRunner(store, [ProcTableSampler(1.0)])

    def spinner_on_top() -> bool:
        runner.sample_once()
        rows = store.detail(DETAIL_KEY, {}).get("rows") or []
        return bool(rows) and rows[0]["pid"] == spinner_pid

    assert wait_for(spinner_on_top, timeout=30.0, step=0.5), "the spinner never topped the CPU list"
    knobs = TestKnobs(live_timer=False, use_tracker=False)
    app = create_app(store, runner, AppOptions(hostname=HOSTNAME, theme="perftui-dark"), knobs)
    return app, store, runner


def footer_keys(app: PerftuiApp) -> set[str]:
    return {key for key, b in app.active_bindings.items() if b.binding.show and b.enabled}


async def test_busy_child_tops_the_list_attaches_live_and_detaches(spinner: subprocess.Popen[bytes]) -> None:
    app, store, runner = live_app(spinner.pid)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        assert pane.listing and not pane.attached
        first = next(ln for ln in pane.lines if ln.split() and ln.split()[0].isdigit())
        assert first.split()[0] == str(spinner.pid) and "python -c while True:" in first
        assert pane.plist.current is not None and pane.plist.current.pid == spinner.pid
        pane.focus()
        await pilot.pause()
        assert {"a", "k", "o", "slash"} <= footer_keys(app)
        await pilot.press("a")
        await pilot.pause()
        # the process sampler runs in a runner of its own, beside the (idle) main one
        assert wait_for(lambda: any(r.get("pid") == spinner.pid for r in store.detail("proc.tree") or []))
        app.dashboard.refresh_view()
        await pilot.pause()
        assert pane.attached and pane.border_title == "Process tree"
        assert pane.lines[0].startswith(f"PID {spinner.pid} python")
        assert "v" in footer_keys(app) and "a" in footer_keys(app)
        await pilot.press("a")  # detach: back to the list at once
        await pilot.pause()
        assert not pane.attached and pane.listing
        assert wait_for(lambda: store.status("process") is None and store.detail("proc.info") is None)
        runner.sample_once()
        app.dashboard.refresh_view()
        await pilot.pause()
        assert not pane.attached and str(spinner.pid) in "\n".join(pane.lines)
        session = app.session
        assert session.live_pid is None
    runner.stop()


async def test_pid_reused_between_listing_and_attaching_is_refused(spinner: subprocess.Popen[bytes]) -> None:
    app, store, runner = live_app(spinner.pid)
    detail = store.detail(DETAIL_KEY)
    rows = [dict(r) for r in detail["rows"]]
    rows[0]["start_ticks"] -= 7  # the listed process had an earlier start: another one has its PID now
    store.set_detail(DETAIL_KEY, {**detail, "rows": rows})
    async with app.run_test(size=(200, 50)) as pilot:
        seen: list[str] = []
        original = app.notify

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            seen.append(message)
            original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        pane.focus()
        await pilot.press("a")
        await pilot.pause()
        assert seen[-1] == f"PID {spinner.pid} is now a different process (the PID was reused): not attached"
        assert app.session.live_pid is None and store.status("process") is None
        assert not pane.attached
    runner.stop()


async def test_replay_sessions_cannot_attach() -> None:
    from perftui.ui.session import ReplaySession, Session

    assert Session.can_attach and not ReplaySession.can_attach
    store = MetricStore()
    # a detail missing most fields (an older recording) reads as n/a, not a crash
    store.set_detail(DETAIL_KEY, {"ts": 0.0, "rows": [{"pid": 1, "start_ticks": 1, "name": "init"}]})
    fill_store(store, 0, seconds=10)
    app = create_app(
        store, None, AppOptions(hostname=HOSTNAME), TestKnobs(live_timer=False, use_tracker=False)
    )
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        assert pane.listing
        pane.focus()
        await pilot.press("a")  # no runner: nothing can be attached, and no crash
        await pilot.pause()
        assert not pane.attached and "a" not in footer_keys(app)
        row = next(ln for ln in pane.lines if ln.split()[0] == "1")
        assert row.split() == ["1", "n/a", "n/a", "n/a", "?", "init"]  # CPU, RSS, disk
