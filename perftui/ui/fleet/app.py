"""FleetApp: one row per host, expandable per GPU; sort, filter, summary; enter opens the detail.

The app reads HostStates on a timer (the monitor's streams write them); it fetches nothing itself.
Remote text goes into cells as plain `Text`, never parsed as markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar, Protocol

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from perftui.fleet.cells import COLUMNS, gpu_cells, host_cells
from perftui.fleet.rows import SORT_KEYS, HostRow, filter_rows, host_row, sort_rows, summary_line
from perftui.fleet.state import UP, HostState
from perftui.ui.fleet.detail import HostDetailScreen
from perftui.ui.fleet.table import FleetTable


class Monitor(Protocol):
    states: dict[str, HostState]

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def refresh(self, now: float | None = None) -> None: ...


MonitorFactory = Callable[[Callable[[HostState], None]], Monitor]


class FleetApp(App[None]):
    TITLE = "perftui fleet"
    CSS = """
    #fleet-summary { height: 1; padding: 0 1; background: $panel; }
    #fleet-filter { display: none; height: 3; }
    #fleet-filter.shown { display: block; }
    #fleet-table { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("s", "cycle_sort", "sort"),
        Binding("slash", "filter", "filter"),
        Binding("space", "toggle_gpus", "GPUs"),
        Binding("escape", "clear_filter", "clear", show=False),
    ]

    def __init__(self, factory: MonitorFactory, sort: str = "severity", refresh_s: float = 1.0) -> None:
        super().__init__()
        self._factory = factory
        self.monitor: Monitor | None = None
        self.sort_key = sort if sort in SORT_KEYS else "severity"
        self.filter_text = ""
        self.expanded: set[str] = set()
        self.refresh_s = refresh_s
        self.rows: list[HostRow] = []
        self._row_hosts: list[str] = []
        self._cells: list[tuple[str, ...]] = []
        self._summary = ""
        self._dirty = True

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-summary", markup=False)
        yield Input(placeholder="filter: host, verdict, status, model…", id="fleet-filter")
        yield FleetTable(COLUMNS, id="fleet-table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FleetTable).focus()
        self.monitor = self._factory(self._on_change)
        self.monitor.start()
        self.refresh_table()
        self.set_interval(self.refresh_s, self.refresh_table)

    async def on_unmount(self) -> None:
        if self.monitor is not None:
            await self.monitor.stop()

    def _on_change(self, state: HostState) -> None:
        self._dirty = True

    def refresh_table(self) -> None:
        if self.monitor is None:
            return
        now = time.monotonic()
        self.monitor.refresh(now)
        rows = [host_row(s, now) for s in self.monitor.states.values()]
        summary = f"{summary_line(rows)}  · sort: {self.sort_key}" + (
            f" · filter: {self.filter_text}" if self.filter_text else ""
        )
        if summary != self._summary:
            self._summary = summary
            self.query_one("#fleet-summary", Static).update(summary)
        self.rows = sort_rows(filter_rows(rows, self.filter_text), self.sort_key)
        hosts: list[str] = []
        cells: list[tuple[str, ...]] = []
        down: list[bool] = []
        for r in self.rows:
            open_ = r.name in self.expanded
            cells.append(host_cells(r, open_))
            hosts.append(r.name)
            down.append(r.status != UP)
            if open_:
                for g in r.gpus:
                    cells.append(gpu_cells(r.name, g))
                    hosts.append(r.name)
                    down.append(False)
        self.query_one(FleetTable).set_rows(cells, down)
        self._row_hosts = hosts
        self._cells = cells
        self._dirty = False

    def selected_host(self) -> str | None:
        row = self.query_one(FleetTable).cursor_row
        return self._row_hosts[row] if 0 <= row < len(self._row_hosts) else None

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.refresh_table()

    def action_toggle_gpus(self) -> None:
        host = self.selected_host()
        if host is not None:
            self.expanded ^= {host}
            self.refresh_table()

    def action_filter(self) -> None:
        box = self.query_one(Input)
        box.add_class("shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one(Input)
        box.value = ""
        box.remove_class("shown")
        self.filter_text = ""
        self.query_one(FleetTable).focus()
        self.refresh_table()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.refresh_table()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(FleetTable).focus()

    def on_fleet_table_selected(self, event: FleetTable.Selected) -> None:
        self.action_open_host()

    def action_open_host(self) -> None:
        host = self.selected_host()
        if host is not None and self.monitor is not None:
            self.push_screen(HostDetailScreen(self.monitor.states[host]))
