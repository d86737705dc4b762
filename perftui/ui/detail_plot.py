"""The detail view's plots: one panel per unit, a theme colour per series, axes in human units.

Series of different units never share an axis (TCP retransmits/s beside bytes/s, % beside GiB):
each unit gets its own panel, stacked. The legend is a line above each panel, in the series'
colours, so it never covers data. Y ticks read as the panels do (`200 MB/s`, not `2.1e8`); the
x axis is seconds before the newest sample and ends at `now`. plotext is imported here only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from perftui.core.specs import REGISTRY
from perftui.core.units import Unit, format_value
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import PanelContent

RGB = tuple[int, int, int]
MAX_PANELS = 3
MAX_SERIES = 4  # per panel: more lines than this read as one tangle
MIN_PANEL_HEIGHT = 8  # rows for one panel: legend, plot and x axis
FALLBACK_COLOURS: tuple[RGB, ...] = ((0, 135, 255), (255, 135, 0), (0, 190, 120), (215, 0, 135))


@dataclass(frozen=True)
class Series:
    label: str
    key: str


@dataclass(frozen=True)
class PlotGroup:
    """The series that share one panel and one y axis."""

    unit: Unit
    series: tuple[Series, ...]


def group_by_unit(content: PanelContent) -> list[PlotGroup]:
    """The panel's metrics grouped by unit, in the order they first appear (at most MAX_PANELS
    groups of MAX_SERIES series; flags and ratios are not plotted against a value axis)."""
    groups: dict[Unit, list[Series]] = {}
    for row in content.rows:
        if not row.key:
            continue
        unit = REGISTRY.unit(row.key)
        if unit is Unit.FLAGS:
            continue
        series = groups.setdefault(unit, [])
        if len(series) < MAX_SERIES and all(s.key != row.key for s in series):
            series.append(Series(row.label.strip() or row.key, row.key))
    return [PlotGroup(unit, tuple(s)) for unit, s in list(groups.items())[:MAX_PANELS]]


def nice_step(span: float, count: int) -> float:
    """A 1/2/5 x 10^k step that cuts `span` into about `count` intervals."""
    raw = span / max(1, count)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    exp = math.floor(math.log10(raw))
    base = 10.0**exp
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= mult * base:
            return mult * base
    return 10.0 * base


def y_range(unit: Unit, lo: float, hi: float) -> tuple[float, float]:
    """The y limits: percentages on 0-100 (more when a value exceeds it), others from 0 when
    the values are all positive, and a flat series still gets a visible band."""
    if unit is Unit.PERCENT:
        return 0.0, max(100.0, hi)
    if lo >= 0:
        lo = 0.0
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    return lo, hi


def y_ticks(unit: Unit, lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """Ticks from `lo` up to the first at or above `hi` (the axis then ends on a labelled value),
    about one per three rows and at least two, labelled in the unit's human form; ticks whose
    labels round to the same text are dropped."""
    step = nice_step(hi - lo, max(2, rows // 3))
    ticks: list[float] = []
    labels: list[str] = []
    v = math.floor(lo / step) * step
    while True:
        label = zero_label(unit) if abs(v) < step * 1e-9 else format_value(v, unit)
        if label not in labels:
            ticks.append(v)
            labels.append(label)
        if v >= hi - step * 1e-9:
            return ticks, labels
        v += step


def zero_label(unit: Unit) -> str:
    """`0 %`, `0 W`, `0 B/s` rather than `0.0 %`."""
    if unit in (Unit.BYTES, Unit.BYTES_PER_S, Unit.PER_S, Unit.COUNT, Unit.SECONDS):
        return format_value(0.0, unit)
    return f"0 {unit.value}"


def time_label(seconds_before: float) -> str:
    if seconds_before <= 0:
        return "now"
    if seconds_before >= 120 and seconds_before % 60 == 0:
        return f"-{seconds_before / 60:g} min"
    return f"-{seconds_before:g} s"


def x_ticks(window: float, width: int) -> tuple[list[float], list[str]]:
    """Ticks at whole seconds before now, about one per 20 columns, ending at `now`."""
    step = nice_step(window, max(1, width // 20))
    count = int(window // step)
    ticks = [-step * i for i in range(count, -1, -1)]
    return ticks, [time_label(-t) for t in ticks]


def legend(group: PlotGroup, colours: Sequence[RGB], latest: Sequence[float | None]) -> Text:
    """One line: each series' colour, name and latest value, then the panel's unit."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (series, value) in enumerate(zip(group.series, latest, strict=True)):
        if i:
            text.append("   ")
        text.append("━━ ", Style(color=_hex(colours[i % len(colours)]), bold=True))
        text.append(f"{series.label} {format_value(value, group.unit)}")
    unit = group.unit.value or "count"
    text.append(f"   ({unit})", Style(dim=True))
    return text


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def plot_group(
    store: MetricStore,
    group: PlotGroup,
    window: float,
    end: float,
    size: tuple[int, int],
    colours: Sequence[RGB],
) -> Text | None:
    """The legend line and the plot of one group (None when no series has samples)."""
    import plotext

    width, height = size
    data = []
    for series in group.series:
        ts, vals = store.window(series.key, window)
        keep = ~(vals != vals)  # drop NaN (gaps)
        data.append(((ts[keep] - end).tolist(), vals[keep].tolist()))
    values = [v for _, vals in data for v in vals]
    if not values:
        return None
    lo, hi = y_range(group.unit, min(values), max(values))
    yt, yl = y_ticks(group.unit, lo, hi, height - 3)
    plotext.terminal.limit(False, False)  # the size is the widget's, not the real terminal's
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height - 1)
    fig.theme("simple")
    for i, (xs, vals) in enumerate(data):
        if not xs:
            continue
        marker = plotext.marker("braille", colours[i % len(colours)])
        fig.draw(fig.signal(xs, vals, marker=marker).lines())
    xt, xl = x_ticks(window, width)
    fig.ruler("y").lim(yt[0], yt[-1])
    fig.ruler("y").ticks(yt, yl)
    fig.ruler("x").lim(-window, 0.0)
    fig.ruler("x").ticks(xt, xl)
    plot = _no_background(Text.from_ansi(str(fig.build()).rstrip("\n"), no_wrap=True))
    latest = [store.latest(s.key) for s in group.series]
    out = legend(group, colours, latest)
    out.append("\n")
    out.append_text(plot)
    return out


def _no_background(text: Text) -> Text:
    """plotext's colours without its backgrounds: the plot sits on the screen's own background."""
    clean = Text(text.plain, no_wrap=True)
    for span in text.spans:
        style = Style.parse(span.style) if isinstance(span.style, str) else span.style
        clean.stylize(Style(color=style.color, bold=style.bold), span.start, span.end)
    return clean


def plot_panels(
    store: MetricStore,
    content: PanelContent,
    window: float,
    size: tuple[int, int],
    colours: Sequence[RGB] = FALLBACK_COLOURS,
) -> Text:
    """Every unit group of the panel as a stacked plot with its legend, fitted to `size`."""
    width, height = size
    groups = group_by_unit(content)
    if not groups:
        return Text("no metrics with history in this panel")
    if width < 24 or height < MIN_PANEL_HEIGHT - 1:
        return Text("enlarge the terminal to see the plot")
    end = store.last_ts
    if end is None:
        return Text("waiting for samples")
    groups = groups[: max(1, height // MIN_PANEL_HEIGHT)]
    title = Text(f"{content.title} · last {window:g} s", Style(bold=True), no_wrap=True)
    each = (height - 1) // len(groups)
    parts = [title]
    for group in groups:
        plotted = plot_group(store, group, window, end, (width, each), colours or FALLBACK_COLOURS)
        if plotted is not None:
            parts.append(plotted)
    if len(parts) == 1:
        return Text("no samples in the window yet")
    return Text("\n").join(parts)


class PlotView(Widget):
    """The plots, drawn for the widget's own size at each render (so a resize, or the stats
    table below growing, redraws them to fit)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._args: tuple[MetricStore, PanelContent, float, Sequence[RGB]] | None = None

    def show(self, store: MetricStore, content: PanelContent, window: float, colours: Sequence[RGB]) -> None:
        self._args = (store, content, window, colours)
        self.refresh()

    def render(self) -> Text:
        width, height = self.content_size
        if self._args is None or not width or not height:
            return Text("")
        store, content, window, colours = self._args
        return plot_panels(store, content, window, (width, height), colours)
