"""Pilot tests of the fleet screen over fake streams: 0, 1, 50 and 500 hosts, small to huge terminals."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from perftui.ui.fleet.app import FleetApp
from perftui.ui.fleet.host_screen import HostDashboardScreen
from perftui.ui.fleet.table import FleetTable
from tests.fleet.fakes import FakeMonitor


def _app(n: int, down_every: int = 0) -> tuple[FleetApp, list[FakeMonitor]]:
    made: list[FakeMonitor] = []

    def factory(on_change):  # type: ignore[no-untyped-def]
        m = FakeMonitor(n, on_change, down_every)
        made.append(m)
        return m

    return FleetApp(factory, refresh_s=0.2), made


def _summary(app: FleetApp) -> str:
    return str(app.query_one("#fleet-summary", Static).render())


@pytest.mark.parametrize(("n", "size"), [(0, (80, 24)), (1, (80, 24)), (50, (200, 50)), (500, (300, 90))])
async def test_rows_and_summary(n: int, size: tuple[int, int]) -> None:
    app, made = _app(n, down_every=10)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(FleetTable)
        assert table.row_count == n
        summary = _summary(app)
        down = len(range(0, n, 10))
        assert f"{n} hosts: {n - down} up, {down} down" in summary
        if n > 1:
            # severity order: down hosts first, then throttled ones
            first = [str(c) for c in table.get_row_at(0)]
            assert "Connection refused" in first[7]
            assert any("throttled (high)" in str(table.get_row_at(i)[7]) for i in range(down, down + 3))
        header = table.render_line(0).text
        assert "util mean/max" in header and "verdict" in header
        if n:
            await pilot.press("end")
            assert table.cursor_row == n - 1
            assert app.selected_host() == app.rows[-1].name
            if n > size[1]:
                assert table.scroll_offset.y > 0
                shown = "".join(table.render_line(y).text for y in range(table.size.height))
                assert app.rows[-1].name in shown
            await pilot.press("home")
            assert table.cursor_row == 0 and table.scroll_offset.y == 0
    assert made[0].stopped


async def test_expand_sort_filter_and_detail() -> None:
    app, _made = _app(12)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        table = app.query_one(FleetTable)
        first_host = app.selected_host()
        assert first_host is not None
        await pilot.press("space")
        assert table.row_count == 12 + 8  # eight GPU rows under the first host
        assert "GPU 7" in str(table.get_row_at(8)[0])
        await pilot.press("space")
        assert table.row_count == 12
        await pilot.press("s")  # util
        assert app.sort_key == "util"
        utils = [r.util_mean for r in app.rows]
        assert utils == sorted(utils, reverse=True)
        await pilot.press("s", "s")  # power, name
        assert [r.name for r in app.rows] == sorted(r.name for r in app.rows)
        await pilot.press("slash")
        await pilot.press(*"qs ")  # typed into the filter box, not quit / sort
        assert app.is_running and app.filter_text == "qs " and app.sort_key == "name"
        await pilot.press("backspace", "backspace", "backspace")
        await pilot.press(*"memory")
        await pilot.pause()
        assert app.rows and all(r.verdict == "memory-bound" for r in app.rows)
        assert table.row_count == len(app.rows)
        await pilot.press("enter")
        await pilot.press("escape")
        assert app.filter_text == ""
        assert table.row_count == 12
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HostDashboardScreen)
        assert app.screen.hostname.startswith(app.screen.host_session.state.name)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HostDashboardScreen)


async def test_remote_text_is_not_markup() -> None:
    app, made = _app(2)
    async with app.run_test(size=(120, 30)) as pilot:
        st = made[0].states["node000"]
        st.fail("[bold red]pwned[/] \x1b[2J")
        app.refresh_table()
        await pilot.pause()
        cells = [str(c) for r in range(2) for c in app.query_one(FleetTable).get_row_at(r)]
        assert any("[bold red]pwned[/] \\x1b[2J" in c for c in cells)
        assert not any("\x1b" in c for c in cells)
