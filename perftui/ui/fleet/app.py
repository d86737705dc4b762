"""FleetApp: one row per host, expandable per GPU; sort, filter, summary; enter opens that host's
full dashboard (perftui.ui.fleet.host_screen), escape returns.

The app reads HostStates on a timer (the monitor's streams write them); it fetches nothing itself.
Remote text goes into cells as plain `Text`, never parsed as markup. It loads the dashboard's
stylesheet and perftui's themes, so a host's dashboard looks as it does locally.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar, Protocol

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from perftui.fleet.cells import COLUMNS, gpu_cells, host_cells
from perftui.fleet.rows import SORT_KEYS, HostRow, filter_rows, host_row, sort_rows, summary_line
from perftui.fleet.state import UP, HostState
from perftui.ui.driver_choice import driver_for
from perftui.ui.fleet.table import FleetTable
from perftui.ui.options import DEFAULT_KNOBS, DEFAULT_OPTIONS, AppOptions, TestKnobs
from perftui.ui.themes import all_theme_names, load_themes, perftui_variables


class Monitor(Protocol):
    states: dict[str, HostState]

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def refresh(self, now: float | None = None) -> None: ...


MonitorFactory = Callable[[Callable[[HostState], None]], Monitor]


FLEET_ACTIONS = frozenset({"cycle_sort", "filter", "toggle_gpus", "clear_filter", "open_host"})


class FleetApp(App[None]):
    TITLE = "perftui fleet"
    CSS_PATH = "../app.tcss"  # the dashboard's, for a host's dashboard
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

    def __init__(
        self,
        factory: MonitorFactory,
        sort: str = "severity",
        refresh_s: float = 1.0,
        options: AppOptions = DEFAULT_OPTIONS,
        knobs: TestKnobs = DEFAULT_KNOBS,
    ) -> None:
        super().__init__()
        self.options, self.knobs = options, knobs
        loaded = options.themes if options.themes is not None else load_themes()
        for t in loaded.themes:
            self.register_theme(t)
        self.theme_names = all_theme_names(loaded)
        self.theme_variables: dict[str, str] = {}
        self.theme = options.theme if options.theme in self.available_themes else self.theme_names[0]
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

    def get_driver_class(self) -> type[Driver]:
        """The dashboard's quiet Linux driver (no input polling ten times a second)."""
        return driver_for(super().get_driver_class())

    def get_default_screen(self) -> Screen[object]:
        # not Textual's "_default": that is the id a DashboardScreen (a host's) takes
        return Screen(id="fleet")

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

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        combined = {**perftui_variables(variables), **variables}
        self.theme_variables = combined  # the dashboard's footer reads them
        return combined

    @property
    def on_fleet(self) -> bool:
        """The fleet table is the screen shown (not a host's dashboard, not help)."""
        return len(self.screen_stack) <= 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in FLEET_ACTIONS:
            return self.on_fleet  # a host's dashboard has its own keys; these act on the table
        return True

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
        if not self.on_fleet or not self.screen.query(FleetTable):
            # a host's dashboard is shown, or the fleet screen is coming back from it (for a moment
            # its children are not queryable): the table is redrawn on the next refresh
            self._dirty = True
            return
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
            self.push_screen(self.host_screen(host), lambda _r: self.refresh_table())

    def host_screen(self, host: str) -> Screen[object]:
        """The host's full dashboard, driven by its stream (read-only)."""
        from perftui.ui.fleet.host_screen import HostDashboardScreen

        assert self.monitor is not None
        w, h = self.size
        return HostDashboardScreen(self.monitor.states[host], self.options, self.knobs, (w, h))
