"""Detail of one panel: a larger plot (plotext, imported here only) and window statistics."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from perftui.core.specs import REGISTRY
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import PanelContent
from perftui.ui.service_detail import service_detail

STAT_COLS = ("latest", "mean", "P50", "P95", "P99", "P99.9", "max")


def stats_table(store: MetricStore, content: PanelContent, window: float) -> str:
    keys = [(r.label, r.key) for r in content.rows if r.key]
    if not keys:
        return "no metrics with history in this panel"
    lw = max(12, *(len(label) for label, _ in keys))
    head = f"{'metric':<{lw}} " + " ".join(f"{c:>11}" for c in STAT_COLS)
    lines = [head]
    for label, key in keys:
        assert key is not None
        st = store.stats(key, window)
        if st is None:
            vals = [store.latest(key)] + [None] * 6
        else:
            vals = [store.latest(key), st.mean, st.p50, st.p95, st.p99, st.p999, st.max]
        lines.append(f"{label:<{lw}} " + " ".join(f"{REGISTRY.format(key, v):>11}" for v in vals))
    n = max((s.count for _, k in keys if k and (s := store.stats(k, window))), default=0)
    lines.append(f"over the last {window:g} s ({n} samples)")
    return "\n".join(lines)


def plot_text(store: MetricStore, content: PanelContent, window: float, width: int, height: int) -> str:
    """Up to three series sharing the first metric's unit, as plain text (plotext, colourless)."""
    import plotext

    rows = [r for r in content.rows if r.key]
    if not rows or width < 20 or height < 6:
        return ""
    unit = REGISTRY.unit(rows[0].key or "")
    chosen = [r for r in rows if REGISTRY.unit(r.key or "") == unit][:3]
    end = store.last_ts
    if end is None:
        return "waiting for samples"
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("colorless")
    drawn = 0
    for row in chosen:
        ts, vals = store.window(row.key or "", window)
        if ts.size == 0:
            continue
        sig = fig.signal((ts - end).tolist(), vals.tolist(), marker="braille").label(row.label).lines()
        fig.draw(sig)
        drawn += 1
    if not drawn:
        return "no samples in the window yet"
    fig.title(f"{content.title} ({unit.value or 'count'}; seconds before now)")
    from rich.text import Text

    return Text.from_ansi(str(fig.build())).plain


class DetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "close", "Back", show=False),
    ]

    def __init__(
        self, panel_id: str, store: MetricStore, content: PanelContent | None, window: float
    ) -> None:
        super().__init__()
        self.panel_id = panel_id
        self._initial = (store, content, window)

    def on_mount(self) -> None:
        self.update_view(*self._initial)

    def on_resize(self) -> None:
        self.update_view(*self._initial)

    def compose(self) -> ComposeResult:
        yield Static(id="detail-plot")
        yield Static(id="detail-stats")
        yield Footer()

    def update_view(self, store: MetricStore, content: PanelContent | None, window: float) -> None:
        if content is None or not self.is_mounted:
            return
        self._initial = (store, content, window)
        plot = self.query_one("#detail-plot", Static)
        stats = self.query_one("#detail-stats", Static)
        w, h = plot.size
        if w and h:
            plot.update(Content(plot_text(store, content, window, max(20, w - 1), max(6, h))))
        table = stats_table(store, content, window)
        extra = service_detail(self.panel_id, store)  # serving/probe: the percentile table first
        stats.update(Content(table if extra is None else f"{extra}\n\n{table}"))

    def action_close(self) -> None:
        self.dismiss(None)
