"""A fleet host's full dashboard (enter on a row): the real DashboardScreen driven by that host's
stream through HostStreamSession; read-only keys; escape returns to the fleet table."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from perftui.fleet.state import HostState
from perftui.ui.fleet.app import FleetApp
from perftui.ui.fleet.host_screen import HostDashboardScreen
from perftui.ui.fleet.table import FleetTable
from perftui.ui.screens.dashboard import DashboardScreen
from perftui.ui.screens.detail import DetailScreen
from perftui.ui.stream_session import HostStreamSession
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.fleet.fakes import FakeMonitor, fake_tick


def _app(n: int) -> tuple[FleetApp, list[FakeMonitor]]:
    made: list[FakeMonitor] = []

    def factory(on_change):  # type: ignore[no-untyped-def]
        m = FakeMonitor(n, on_change)
        made.append(m)
        return m

    return FleetApp(factory, refresh_s=0.2), made


async def _until(cond: Callable[[], object], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return bool(cond())


def _notes(app: FleetApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_enter_opens_the_hosts_dashboard_and_escape_returns() -> None:
    app, made = _app(4)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        table = app.query_one(FleetTable)
        table.move_cursor(row=[r.name for r in app.rows].index("node002"))
        await pilot.press("enter")
        assert await _until(lambda: isinstance(app.screen, HostDashboardScreen))
        board = app.screen
        assert isinstance(board, DashboardScreen) and isinstance(board.session, HostStreamSession)
        st = made[0].states["node002"]
        assert board.session.store is st.store and st.eager  # every tick kept while it is open
        ids = {p.id for p in board.query(MetricPanel)}
        assert {"cpu", "gpu-0", "gpu-7"} <= ids
        for _ in range(3):  # more ticks: the panels draw their history
            made[0].feed()
            await pilot.pause(0.1)
        assert st.store.series("gpu.3.util")[0].size >= 3
        board.refresh_view()
        header = board.query_one(HeaderBar).text
        assert header.startswith("FLEET node002 · up · read-only · node002 (node2)")
        gpu0 = "\n".join(board.query_one("#gpu-0", MetricPanel).plain_lines())
        assert f"{fake_tick(2).values['gpu.0.util']:.0f}" in gpu0
        pane = board.query_one(DiagnosisPane)
        assert await _until(lambda: pane.diagnosis is not None or "waiting" not in pane.message, 15)
        # the fleet's table keys do not act on the host's dashboard
        await pilot.press("space")
        assert app.expanded == set() and app.screen is board
        await pilot.press("escape")
        assert await _until(lambda: not isinstance(app.screen, DashboardScreen))
        assert await _until(lambda: not st.eager)  # history stops being kept once the view is closed
        assert app.query_one(FleetTable).row_count == 4


async def test_the_hosts_dashboard_is_read_only() -> None:
    app, _made = _app(2)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert await _until(lambda: isinstance(app.screen, HostDashboardScreen))
        board = app.screen
        assert isinstance(board, HostDashboardScreen)
        host = board.host_session.state.name
        interval = board.interval
        for key, what in (
            ("r", "recording"),
            ("s", "a report"),
            ("a", "attaching"),
            ("k", "signalling a process"),
            ("plus", "sampling interval"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert any(n.startswith(f"read-only: this is {host}'s stream") and what in n for n in _notes(app))
        assert board.files.recording is None and board.files.reports_written == []
        assert board.interval == interval
        assert board.session.attach(1, 0, 1.0) is not None  # no PID here is ever followed
        await pilot.press("p")
        assert board.paused
        await pilot.press("p", "w")
        assert not board.paused and board.window > 60
        board.query_one("#cpu", MetricPanel).focus()
        await pilot.press("enter")
        assert await _until(lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("escape")
        assert await _until(lambda: app.screen is board)
        await pilot.press("q")  # q leaves the host, not the fleet
        assert await _until(lambda: app.screen.id == "fleet")
        assert app.is_running


def test_the_session_reads_the_hosts_clock() -> None:
    st = HostState("far")
    clock = [100.0]
    session = HostStreamSession(st, monotonic=lambda: clock[0])
    tick = fake_tick(1)
    st.apply(tick, 100.0)
    clock[0] = 103.5
    assert abs(session.now() - (tick.ts + 3.5)) < 1e-6  # the remote's time, aged by the silence
    assert session.store is st.store and session.store.last_ts == tick.ts
    assert not session.can_record and not session.can_attach and session.fixed_interval
    assert session.set_interval(0.1) == st.interval_s
    session.close()
    assert not st.eager
