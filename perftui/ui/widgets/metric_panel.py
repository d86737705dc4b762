"""A metric panel drawn with Textual's line API from cached strips.

Each render tick the app hands the panel a store and a view context; the panel rebuilds its
lines (plain `(text, role)` pieces), compares them with the previous ones and marks dirty only
the cells that changed (usually the sparkline and the value). Unchanged lines keep their cached
`Strip`; a line costs one segment per role run, so few colour codes reach the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from perftui.store.metric_store import MetricStore
from perftui.ui.panels import PanelContent, ViewCtx, core_bar_lines
from perftui.ui.role_colors import role_style
from perftui.ui.rows import Line, Row, layout_lines, line_text, one_line
from perftui.ui.spark_cache import SparkCache
from perftui.ui.sparkline import strip_chars

Builder = Callable[[MetricStore, ViewCtx], PanelContent]
# characters one terminal cell wide: ASCII, Latin-1 and Latin extended, general punctuation
# (…, ·), box drawing and block elements (borders, sparklines)
_one_cell_each = re.compile(r"[\x20-\x7e\u00a0-\u02ff\u2010-\u2027\u2500-\u259f]*").fullmatch
# each role's colour: a theme variable (perftui.ui.role_colors)
ROLE_COLORS: dict[str, str] = {
    "label": "text-muted",
    "value": "foreground",
    "spark": "spark",
    "text": "foreground",
    "warn": "warning",
    "bad": "error",
    "dim": "text-muted",
    "border": "panel-border",
    "border-focus": "border",
    "title": "text-primary",
    "subtitle": "text-muted",
}


def changed_span(old: Line | None, new: Line) -> tuple[int, int] | None:
    """[start, end) cell range that differs between two lines of equal width; None if equal.

    Compared piece by piece (a line is a few pieces: label, value, sparkline), so only the
    pieces that differ are scanned character by character.
    """
    if old == new:
        return None
    if old is None or len(old) != len(new):
        return 0, len(line_text(new))
    start = -1
    end = pos = 0
    for (a, role_a), (b, role_b) in zip(old, new, strict=True):
        n = len(b)
        if role_a != role_b or len(a) != n:  # roles moved: redraw the whole line
            return 0, len(line_text(new))
        if a != b:
            if start < 0:
                i = 0
                while a[i] == b[i]:
                    i += 1
                start = pos + i
            j = n
            while a[j - 1] == b[j - 1]:
                j -= 1
            end = pos + j
        pos += n
    return (start, end) if start >= 0 else None


class MetricPanel(Widget, can_focus=True):
    """A bordered panel of metric rows (label, value, sparkline) with source notices."""

    span_safe: ClassVar[bool] = True  # any crop renders as the full render would (span_compositor)

    def __init__(self, builder: Builder, *, id: str, title: str = "") -> None:
        super().__init__(id=id)
        self._builder = builder
        self._title = title
        self.title = title
        self.subtitle = ""
        self._content: PanelContent | None = None
        self._store: MetricStore | None = None
        self._ctx: ViewCtx | None = None
        self._lines: list[Line] = []
        self._laid_out_size: tuple[int, int, bool] = (0, 0, True)
        self._value_w = 0  # the widest value shown at this size
        self._strips: dict[int, Strip] = {}
        self._styles_by_role: dict[str, Style] = {}
        self._filters: tuple[LineFilter, ...] = ()
        self._sparks = SparkCache()  # column maxima kept between frames
        self.render_count = 0  # lines rendered (tests and benchmark read it)

    # -- data --------------------------------------------------------------
    @property
    def content(self) -> PanelContent | None:
        return self._content

    def natural_height(self) -> int:
        """Rows + notices + border: how tall this panel would like to be."""
        c = self._content
        if c is None:
            return 3
        return len(c.rows) + min(len(c.notices), 2 if c.rows else 4) + 2 + self._bar_rows(c)

    def _bar_rows(self, c: PanelContent) -> int:
        """Rows the per-core bars want: all of them when that is 2 lines or fewer, else the one-line
        strip (more bars show when the panel has room)."""
        if not c.bars:
            return 0
        n = len(core_bar_lines(c.bars, self.size.width - 4))
        return n if 0 < n <= 2 else 1

    def update_view(self, store: MetricStore, ctx: ViewCtx) -> None:
        if store is not self._store:
            self._sparks.clear()
        self._store, self._ctx = store, ctx
        content = self._builder(store, ctx)
        self._content = content
        self._set_titles(content.title, content.subtitle)
        self._relayout()

    def _spark(self, row: Row, width: int) -> str:
        store, ctx = self._store, self._ctx
        if store is None or ctx is None or row.key is None:
            return " " * width
        end = store.last_ts
        if end is None:
            return " " * width
        key = row.key
        return self._sparks.sparkline(
            key,
            lambda seconds: store.points(key, seconds),
            end=end,
            window=ctx.window,
            width=width,
            lo=row.lo,
            hi=row.hi,
            gap=2.5 * ctx.interval,
            fetch_new=lambda t0: store.after(key, t0),
        )

    @property
    def bordered(self) -> bool:
        return not self.has_class("-oneline")

    def _relayout(self, *, refresh: bool = True) -> None:
        if self._content is None or not self.is_mounted:
            return
        size = self.size  # read once: a widget's size is a computed property
        bordered = self.bordered
        width, height = (size.width - 4, size.height - 2) if bordered else (size.width - 2, size.height)
        width, height = max(0, width), max(0, height)
        c = self._content
        if (size.width, size.height, bordered) != self._laid_out_size:
            self._value_w = 0  # a new size: the value column fits what is shown now
        if not bordered and c.summary is not None:
            new = [one_line(c.summary, c.summary_extra, width, self._spark)][:height]
        else:
            # the value column keeps the widest value shown at this size: sparklines stay put
            self._value_w = max(self._value_w, *(len(r.value) for r in c.rows), 0)
            new = layout_lines(c.rows, c.notices, width, height, self._spark, self._value_w)
            free = height - len(new)
            if c.bars and free > 0 and len(new) >= len(c.rows):  # every row shown: bars below
                bars = core_bar_lines(c.bars, width)
                if len(bars) > free:  # no room for a bar each: one cell a core
                    strip = Row(f"{len(c.bars)} cores", strip=strip_chars(c.bars))
                    bars = layout_lines([strip], [], width, 1, self._spark)
                new.extend(bars)
        blank: Line = ((" " * width, "label"),) if width > 0 else ()
        new.extend([blank] * (height - len(new)))
        laid_out = (size.width, size.height, bordered)
        if laid_out != self._laid_out_size:
            self._laid_out_size = laid_out
            self._lines = new
            self._strips.clear()
            if refresh:
                self.refresh()
            return
        regions = []
        dx, dy = (2, 1) if bordered else (1, 0)
        old_lines = self._lines
        for y, line in enumerate(new):
            old = old_lines[y] if y < len(old_lines) else None
            if old == line:
                continue
            span = changed_span(old, line)
            if span is not None:
                regions.append(Region(span[0] + dx, y + dy, span[1] - span[0], 1))
                self._strips.pop(y + dy, None)
        self._lines = new
        if regions:
            self.refresh(*regions)

    def _set_titles(self, title: str, subtitle: str) -> None:
        if (title, subtitle) != (self.title, self.subtitle):
            self.title, self.subtitle = title, subtitle
            h = self.size.height
            self._strips.pop(0, None)
            self._strips.pop(h - 1, None)
            if self.is_mounted:
                self.refresh(Region(0, 0, self.size.width, 1), Region(0, max(0, h - 1), self.size.width, 1))

    # -- rendering ---------------------------------------------------------
    # The panel draws its own border and padding and hands the compositor its cached strips
    # (render_lines): the generic per-line styling pass is skipped, and a line is rebuilt only
    # when its text changed. Textual's line filters (ANSI->truecolor, NO_COLOR, dim) map each
    # segment's style on its own, so they are applied once per role style, not once per line.
    def _style(self, role: str) -> Style:
        style = self._styles_by_role.get(role)
        if style is None:
            style = role_style(self, ROLE_COLORS[role])
            if self._filters:
                background = self.background_colors[1]
                segments = [Segment(" ", style)]
                for line_filter in self._filters:
                    segments = line_filter.apply(segments, background)
                style = segments[0].style or style
            self._styles_by_role[role] = style
        return style

    def _check_filters(self) -> None:
        filters = tuple(self.app.get_line_filters())
        if filters != self._filters:
            self._filters = filters
            self._styles_by_role.clear()
            self._strips.clear()

    def _line_segments(self, y: int, width: int, height: int) -> list[Segment]:
        border = self._style("border-focus" if self.has_focus else "border")
        if y == 0:
            title = f" {self.title} " if self.title else ""
            title = title[: max(0, width - 4)]
            fill = "─" * max(0, width - 3 - len(title))
            segs = [Segment("╭─", border), Segment(title, self._style("title")), Segment(fill + "╮", border)]
        elif y == height - 1:
            sub = f" {self.subtitle} " if self.subtitle else ""
            sub = sub[: max(0, width - 4)]
            fill = "─" * max(0, width - 3 - len(sub))
            segs = [Segment("╰" + fill, border), Segment(sub, self._style("subtitle")), Segment("─╯", border)]
        else:
            pad = self._style("label")
            inner = width - 4
            line = self._lines[y - 1] if y - 1 < len(self._lines) else ((" " * inner, "label"),)
            segs = [Segment("│", border), Segment(" ", pad)]
            segs += [Segment(t, self._style(r)) for t, r in line]
            segs += [Segment(" ", pad), Segment("│", border)]
        return segs

    def _full_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            self.render_count += 1
            width, height = self.size
            if self.bordered and height >= 2 and width >= 4:
                strip = Strip(self._line_segments(y, width, height), width)
            else:
                pad = self._style("label")
                line = self._lines[y] if y < len(self._lines) else ((" " * max(0, width - 2), "label"),)
                segs = [Segment(" ", pad), *(Segment(t, self._style(r)) for t, r in line), Segment(" ", pad)]
                strip = Strip(segs).adjust_cell_length(width, pad)
            self._strips[y] = strip
        return strip

    def _catch_up_size(self) -> None:
        """Lay out for the size being rendered if its Resize event has not been handled yet.

        A panel's first render comes right after the first layout, before its Resize event: without
        this the first frame would show empty panels, and the values a frame later."""
        size = self.size
        if (size.width, size.height, self.bordered) != self._laid_out_size:
            self._relayout(refresh=False)

    def render_line(self, y: int) -> Strip:
        self._check_filters()
        self._catch_up_size()
        return self._strips.get(y) or self._full_line(y)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._check_filters()
        self._catch_up_size()
        strips = self._strips
        out = [strips.get(y) or self._full_line(y) for y in range(crop.y, crop.bottom)]
        if crop.x or crop.right != self.size.width:
            out = [strip.crop(crop.x, crop.right) for strip in out]
        return out

    def render_span(self, x: int, y: int, width: int) -> Strip | None:
        """Cells [x, x + width) of line y for a partial update (span_compositor), cut from the
        line's segments without building the whole line's Strip. Lines are laid out one cell per
        character; a line with any other character (or the one-line form) returns None."""
        self._check_filters()
        strip = self._strips.get(y)
        if strip is not None:
            return strip.crop(x, x + width)
        size = self.size
        if not (self.bordered and size.height >= 2 and size.width >= 4):
            return None
        end = x + width
        out: list[Segment] = []
        pos = 0
        self.render_count += 1
        for seg in self._line_segments(y, size.width, size.height):
            text = seg.text
            nxt = pos + len(text)
            if nxt > x and pos < end:
                if not _one_cell_each(text):
                    return None
                out.append(Segment(text[max(x, pos) - pos : min(end, nxt) - pos], seg.style))
            pos = nxt
            if pos >= end:
                break
        if pos < end:
            return None
        return Strip(out, width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_by_role.clear()
        self._strips.clear()

    def on_focus(self, event: events.Focus) -> None:
        # Textual's own focus handler (Widget._on_focus) runs too: handlers run for each class
        self._strips.clear()
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self._strips.clear()
        self.refresh()

    def on_resize(self) -> None:
        self._relayout()

    def plain_lines(self) -> list[str]:
        """The panel's current lines as text (tests)."""
        return [line_text(line) for line in self._lines]
