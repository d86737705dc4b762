"""Detail of one panel: larger plots (ui/detail_plot.py) and window statistics (ui/detail_stats.py)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from perftui.store.metric_store import MetricStore
from perftui.ui.detail_plot import RGB, PlotView
from perftui.ui.detail_stats import stats_table
from perftui.ui.panels import PanelContent
from perftui.ui.service_detail import service_detail


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
        yield PlotView(id="detail-plot")
        yield Static(id="detail-stats")
        yield Footer()

    def update_view(self, store: MetricStore, content: PanelContent | None, window: float) -> None:
        if content is None or not self.is_mounted:
            return
        self._initial = (store, content, window)
        plot = self.query_one("#detail-plot", PlotView)
        stats = self.query_one("#detail-stats", Static)
        plot.show(store, content, window, self.series_colours())
        table = stats_table(store, content, window, stats.content_size.width or 76)
        extra = service_detail(self.panel_id, store)  # serving/probe: the percentile table first
        stats.update(Content(table if extra is None else f"{extra}\n\n{table}"))

    def series_colours(self) -> list[RGB]:
        """The theme's accent colours, one per series, in a fixed order (no repeats)."""
        theme = self.app.current_theme
        colours: list[RGB] = []
        for name in (theme.primary, theme.warning, theme.success, theme.accent, theme.secondary, theme.error):
            if name:
                rgb = Color.parse(name).rgb
                if rgb not in colours:
                    colours.append(rgb)
        return colours

    def action_close(self) -> None:
        self.dismiss(None)
