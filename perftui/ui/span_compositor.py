"""Partial screen updates drawn span by span, from the one widget that shows each span.

Textual's compositor answers a partial update by rendering every widget that overlaps the
bounding box of all dirty regions — whole widgets, every line — then cutting each line at every
widget edge before it writes out the dirty spans. On the dashboard a tick dirties a cell range on
~25 lines spread over the whole screen, so each frame re-rendered and re-cut the whole screen to
write those ranges: about half of a frame's CPU.

`SpanCompositor` writes each dirty span straight from the widget in front there, which must be
one of ours that renders any crop exactly as its full render would (`span_safe = True`:
line-API widgets with cached strips); a span across widgets side by side is split at their edges.
Anything else — a toast or tooltip over a panel, a widget we do not know, the bare screen — falls
back to Textual's own path for that frame, so the screen is always what Textual would draw.

What such a widget leaves behind is repainted here too: the compositor keeps the visible regions
of the widgets it cannot draw span by span (toasts, tooltips, containers) and, when one moves,
shrinks or goes, marks the region it covered dirty. Textual does so from its layout maps, but those
are rebuilt in place by any region look-up between a DOM change and the next layout, after which
the reflow sees no change: several toasts expiring in a row then left fragments over the panels
until a resize (issue 24).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from perftui.ui import textual_compat

Compositor, CompositorUpdate = textual_compat.compositor_base()


class SpanUpdate(CompositorUpdate):  # type: ignore[misc,valid-type]
    """Cursor moves and the strips of the dirty spans."""

    def __init__(self, pieces: list[tuple[int, int, Strip]]) -> None:
        self.pieces = pieces

    def render_segments(self, console: Console) -> str:
        return "".join(f"\x1b[{y + 1};{x + 1}H{strip.render(console)}" for x, y, strip in self.pieces)


def span_safe(widget: Widget) -> bool:
    return bool(getattr(widget, "span_safe", False))


class SpanCompositor(Compositor):  # type: ignore[misc,valid-type]
    """A Compositor whose partial updates take the span-by-span path when it is exact."""

    def __init__(self) -> None:
        super().__init__()
        self.span_frames = 0  # partial updates drawn span by span (tests, benchmark)
        self.fallback_frames = 0  # partial updates left to Textual
        self.uncovered_regions = 0  # regions repainted because an overlay left them (tests)
        self._overlays: dict[Widget, Region] = {}  # not span-safe widget -> visible region shown
        self._overlays_from: object = None  # the visible_widgets mapping they were read from

    def _overlay_regions(self) -> dict[Widget, Region]:
        visible = self.visible_widgets
        if visible is self._overlays_from:
            return self._overlays
        self._overlays_from = visible
        return {
            w: shown
            for w, (region, clip) in visible.items()
            if not span_safe(w) and (shown := region.intersection(clip))
        }

    def _mark_uncovered(self) -> None:
        """Mark dirty what an overlay covered at the last update and no longer covers."""
        old, new = self._overlays, self._overlay_regions()
        if new is old:
            return
        self._overlays = new
        regions = textual_compat.dirty_regions(self)
        for widget, region in old.items():
            if new.get(widget) != region:
                regions.add(region)
                self.uncovered_regions += 1

    def render_full_update(self, simplify: bool = False) -> Any:
        self._overlays = self._overlay_regions()  # everything is drawn afresh
        return super().render_full_update(simplify)

    def render_partial_update(self) -> Any:
        self._mark_uncovered()
        regions = textual_compat.dirty_regions(self)
        if not regions:
            return None
        pieces = self._span_pieces(regions)
        if pieces is None:
            self.fallback_frames += 1
            return super().render_partial_update()
        regions.clear()
        self.span_frames += 1
        return SpanUpdate(pieces)

    def _span_pieces(self, regions: set[Region]) -> list[tuple[int, int, Strip]] | None:
        width, height = self.size
        # front to back (visible_widgets is in render order), as (widget, region, visible part)
        shown = [(w, region, region.intersection(clip)) for w, (region, clip) in self.visible_widgets.items()]
        pieces: list[tuple[int, int, Strip]] = []
        for y, x1, x2 in textual_compat.regions_to_spans(self, regions):
            x, x2 = max(0, x1), min(width, x2)
            if not 0 <= y < height:
                continue
            while x < x2:  # a span may cross several widgets side by side: one piece each
                end = x2
                for widget, region, visible in shown:
                    if not visible.y <= y < visible.bottom or visible.right <= x:
                        continue
                    if visible.x > x:  # a widget in front starts further right: stop before it
                        end = min(end, visible.x)
                        continue
                    end = min(end, visible.right)
                    if not span_safe(widget):
                        return None
                    strip = self._render_span(widget, x - region.x, y - region.y, end - x)
                    if strip is None:
                        return None
                    pieces.append((x, y, strip))
                    break
                else:
                    return None  # nothing shows there (cannot happen under a Screen)
                x = end
        return pieces

    @staticmethod
    def _render_span(widget: Widget, x: int, y: int, width: int) -> Strip | None:
        """Cells [x, x + width) of the widget's line y: its own `render_span` when it has one
        (cheaper than a Strip of the whole line), else its render_lines for that crop."""
        render_span = getattr(widget, "render_span", None)
        strip = render_span(x, y, width) if render_span is not None else None
        if strip is None:
            lines = widget.render_lines(Region(x, y, width, 1))
            strip = lines[0] if len(lines) == 1 else None
        return strip if strip is not None and strip.cell_length == width else None
