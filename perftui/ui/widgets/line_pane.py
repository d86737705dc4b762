"""A pane of styled text lines drawn with Textual's line API, each line a cached `Strip`.

The diagnosis and process panes change a few words at a time; building their text as a Rich
renderable made Textual wrap and convert the whole pane on every change (~3 ms). Here the pane
holds paragraphs of `(text, role)` pieces, wraps them itself, and rebuilds only the lines whose
pieces changed; border, padding and line filters stay Textual's (CSS).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from perftui.ui.role_colors import role_style
from perftui.ui.rows import Line, Piece

# A paragraph: its pieces and how it breaks. wrap=True: word-wrapped (first piece's role), the
# continuation lines indented by `indent` cells; wrap=False: one line, cut with "…".
Paragraph = tuple[tuple[Piece, ...], bool, int]


def para(*pieces: Piece, wrap: bool = False, indent: int = 0) -> Paragraph:
    return (tuple(pieces), wrap, indent)


def _cut(line: Sequence[Piece], width: int) -> Line:
    out: list[Piece] = []
    room = width
    for text, role in line:
        if room <= 0:
            break
        if len(text) > room:
            text = text[: max(0, room - 1)] + "…"
        out.append((text, role))
        room -= len(text)
    return tuple(out)


def wrap_paragraphs(paragraphs: Sequence[Paragraph], width: int) -> list[Line]:
    """The lines `paragraphs` take at `width` cells."""
    if width <= 0:
        return []
    lines: list[Line] = []
    for pieces, wrap, indent in paragraphs:
        if not wrap or not pieces:
            lines.append(_cut(pieces, width))
            continue
        text = "".join(t for t, _ in pieces)
        role = pieces[0][1]
        lead = len(text) - len(text.lstrip(" "))
        parts = textwrap.wrap(
            text,
            width,
            initial_indent="",
            subsequent_indent=" " * min(indent, max(0, width - 8)),
            drop_whitespace=True,
            break_on_hyphens=False,
        )
        if parts and lead:
            parts[0] = " " * lead + parts[0].lstrip(" ")
        lines.extend(_cut(((p, role),), width) for p in parts or [""])
    return lines


class LinePane(Widget):
    """Lines of `(text, role)` pieces; role R is drawn in the theme variable ROLE_COLORS[R]
    (perftui.ui.role_colors), or else takes its style from the component class `pane--R`.
    PageUp/PageDown scroll a pane whose lines do not fit (`top`: the first line shown)."""

    ROLE_COLORS: ClassVar[dict[str, str]] = {}

    span_safe: ClassVar[bool] = True  # cached strips through Textual's own per-line render
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page(-1)", "Scroll", show=False),
        Binding("pagedown", "page(1)", "Scroll", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._paragraphs: list[Paragraph] = []
        self._shown: list[Line] = []
        self._width = -1
        self._strips: dict[int, Strip] = {}
        self._styles_by_role: dict[str, Style] = {}
        self.top = 0

    def natural_height(self) -> int:
        """Lines at the current width, and the border."""
        return len(self._shown) + 2

    def action_page(self, direction: int) -> None:
        self.scroll_to_line(self.top + direction * max(1, self.content_size.height - 1))

    def scroll_to_line(self, top: int) -> None:
        top = max(0, min(top, len(self._shown) - self.content_size.height))
        if top != self.top:
            self.top = top
            self.refresh()

    @property
    def plain_lines(self) -> list[str]:
        """The text of each line shown (tests)."""
        return ["".join(t for t, _ in line) for line in self._shown]

    def set_paragraphs(self, paragraphs: Sequence[Paragraph]) -> None:
        new = list(paragraphs)
        if new == self._paragraphs and self._width == self.size.width:
            return
        self._paragraphs = new
        self._relayout()

    def _relayout(self, *, refresh: bool = True) -> None:
        width = self.size.width
        lines = wrap_paragraphs(self._paragraphs, width)
        changed: list[int] = []
        whole = width != self._width
        if whole:
            self._width = width
            self._strips.clear()
        else:
            for y in range(max(len(lines), len(self._shown))):
                old = self._shown[y] if y < len(self._shown) else None
                new = lines[y] if y < len(lines) else None
                if old != new:
                    self._strips.pop(y, None)
                    changed.append(y)
        self._shown = lines
        top = max(0, min(self.top, len(lines) - self.content_size.height))
        whole = whole or top != self.top
        self.top = top
        if not refresh:
            return
        if whole:
            self.refresh()
        elif changed:  # only the lines whose words changed (regions are content-relative)
            inner = self.content_size.width
            self.refresh(*(Region(0, y - top, inner, 1) for y in changed if y >= top))

    def on_resize(self) -> None:
        self._relayout()

    def _style(self, role: str) -> Style:
        style = self._styles_by_role.get(role)
        if style is None:
            variable = self.ROLE_COLORS.get(role)
            if variable is not None:
                style = role_style(self, variable)
            else:
                style = self.rich_style + self.get_component_rich_style(f"pane--{role}")
            self._styles_by_role[role] = style
        return style

    def render_line(self, y: int) -> Strip:
        if self.size.width != self._width:  # rendered before its Resize event (the first frame)
            self._relayout(refresh=False)
        y += self.top
        strip = self._strips.get(y)
        if strip is None:
            line = self._shown[y] if y < len(self._shown) else ()
            segments = [Segment(text, self._style(role)) for text, role in line]
            strip = Strip(segments).adjust_cell_length(self.size.width, self.rich_style)
            self._strips[y] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_by_role.clear()
        self._strips.clear()
