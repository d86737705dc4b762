"""FleetTable: a plain-text table drawn line by line (Textual's line API).

A hundred hosts every interval through DataTable (Rich rendering per cell) cost a few % of a core
by themselves; here a row is one padded string, drawn only when visible. Header row fixed at the
top; cursor, paging and enter (posts `FleetTable.Selected`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

COLUMN_CAP = 60
GAP = "  "


class FleetTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fleet-table--header",
        "fleet-table--cursor",
        "fleet-table--down",
    }
    DEFAULT_CSS = """
    FleetTable { height: 1fr; }
    FleetTable > .fleet-table--header { text-style: bold; background: $panel; }
    FleetTable > .fleet-table--cursor { background: $accent; color: $text; }
    FleetTable > .fleet-table--down { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "cursor(-1000000)", show=False),
        Binding("end", "cursor(1000000)", show=False),
        Binding("enter", "select", "detail"),
    ]

    class Selected(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self._rows: list[tuple[str, ...]] = []
        self._down: list[bool] = []
        self._widths = [len(c) for c in self.columns]
        self._lines: list[str] = []
        self.cursor_row = 0

    # -- data ------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, row: int) -> tuple[str, ...]:
        return self._rows[row]

    def set_rows(self, rows: Sequence[tuple[str, ...]], down: Sequence[bool] | None = None) -> None:
        if list(rows) == self._rows and (down is None or list(down) == self._down):
            return
        self._rows = list(rows)
        self._down = list(down) if down is not None else [False] * len(self._rows)
        widths = [len(c) for c in self.columns]
        for r in self._rows:
            for i, cell in enumerate(r[: len(widths)]):
                if len(cell) > widths[i]:
                    widths[i] = min(COLUMN_CAP, len(cell))
        self._widths = widths
        self._lines = [self._format(r) for r in self._rows]
        total = sum(widths) + len(GAP) * (len(widths) - 1)
        self.virtual_size = Size(total, len(self._rows) + 1)
        self.cursor_row = max(0, min(self.cursor_row, len(self._rows) - 1))
        self.refresh()

    def _format(self, cells: Sequence[str]) -> str:
        out = []
        for w, cell in zip(self._widths, cells, strict=False):
            out.append(cell[:w].ljust(w) if len(cell) <= w else cell[: w - 1] + "…")
        return GAP.join(out)

    def move_cursor(self, row: int) -> None:
        if not self._rows:
            return
        self.cursor_row = max(0, min(row, len(self._rows) - 1))
        top = int(self.scroll_offset.y)
        visible = max(1, self.size.height - 1)  # below the header line
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)
        self.refresh()

    # -- actions ---------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self.cursor_row))

    # -- drawing ---------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        x0 = int(self.scroll_offset.x)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("fleet-table--header")
            text = self._format(self.columns)
        else:
            row = y - 1 + int(self.scroll_offset.y)
            if row >= len(self._lines):
                return Strip.blank(width, base)
            style = base
            if self._down[row]:
                style = style + self.get_component_rich_style("fleet-table--down")
            if row == self.cursor_row and self.has_focus:
                style = style + self.get_component_rich_style("fleet-table--cursor")
            elif row == self.cursor_row:
                style = style + Style(reverse=True)
            text = self._lines[row]
        return Strip([Segment(text, style)]).crop_extend(x0, x0 + width, style)
