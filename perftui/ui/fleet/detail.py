"""A host's detail: its verdict with evidence, its facts, and every latest value (read-only).

Reads the host's store and state only. To be replaced by the full DashboardScreen driven by the
host's MetricStore once that screen exists (see `HostState.store`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from perftui.core.specs import REGISTRY
from perftui.core.units import natural_key
from perftui.fleet.state import HostState


def detail_header(state: HostState) -> str:
    lines = [f"{state.name} — {state.status}" + (f": {state.error}" if state.error else "")]
    f = state.facts
    if f:
        gpus = f.get("gpus") or []
        names = ", ".join(sorted({str(g.get("name")) for g in gpus if isinstance(g, dict)})) or "no GPU"
        lines.append(
            f"{f.get('host', '?')} · {f.get('cpu_model', '?')} · {f.get('cpu_cores_logical', '?')} CPUs · "
            f"{len(gpus)} GPU ({names}) · perftui {f.get('perftui', '?')}"
        )
    v = state.verdict
    if v is not None:
        lines.append(f"verdict: {v.verdict} ({v.confidence}) {v.title}")
        if v.evidence:
            lines.append(f"evidence: {v.evidence}")
    return "\n".join(lines)


class HostDetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("q", "app.pop_screen", "back"),
    ]

    def __init__(self, state: HostState) -> None:
        super().__init__()
        self.state = state

    def compose(self) -> ComposeResult:
        yield Static(detail_header(self.state), id="fleet-detail-head", markup=False)
        yield DataTable(id="fleet-detail-values", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.state.keep_history()
        table = self.query_one(DataTable)
        table.add_columns("metric", "value")
        self.refresh_values()
        self.set_interval(max(1.0, self.state.interval_s), self.refresh_values)

    def refresh_values(self) -> None:
        self.query_one("#fleet-detail-head", Static).update(detail_header(self.state))
        table = self.query_one(DataTable)
        table.clear()
        store = self.state.store
        for key in sorted(store.keys(), key=natural_key):
            table.add_row(Text(key), Text(REGISTRY.format(key, store.latest(key))))
