"""What a panel line holds, and how rows are packed into a panel of a given size (no Textual).

A panel is a list of `Row`s (label, value, sparkline) plus notices (why a source is unavailable
or stale). `layout_lines` turns them into lines of `(text, role)` pieces that exactly fill the
width; the widget maps roles to theme styles. Few pieces per line keeps the bytes written to
the terminal low: each piece costs one colour code, not each cell.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from typing import NamedTuple

Piece = tuple[str, str]  # (text, role)
Line = tuple[Piece, ...]

LABEL_W = 11
MIN_CELL = 30
SEP = "  "


class Row(NamedTuple):
    """One line of a panel: a label, and a value with its sparkline, or text."""

    label: str
    key: str | None = None  # metric whose sparkline is drawn (and value shown unless `value` is set)
    value: str = ""  # formatted value
    text: str | None = None  # a text row: no sparkline, `text` after the label
    lo: float = 0.0
    hi: float | None = None  # sparkline top; None = autoscale to the window's max
    severity: str = ""  # "", "warn" or "bad"
    strip: str | None = None  # pre-made cells (the per-core strip) instead of a sparkline


SparkFn = Callable[[Row, int], str]


def _merge(pieces: Sequence[Piece]) -> Line:
    out: list[Piece] = []
    for text, role in pieces:
        if not text:
            continue
        if out and out[-1][1] == role:
            out[-1] = (out[-1][0] + text, role)
        else:
            out.append((text, role))
    return tuple(out)


def _fit(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if len(text) <= width:
        return text.ljust(width)
    return text[: max(0, width - 1)] + "…"


def _cell(row: Row, width: int, value_w: int, spark: SparkFn) -> list[Piece]:
    lw = min(LABEL_W, max(4, width // 3))
    label = _fit(row.label, lw - 1) + " "
    role = row.severity or "value"
    if row.text is not None:
        return [(label, "label"), (_fit(row.text, width - lw), row.severity or "text")]
    vw = min(value_w, max(0, width - lw - 1))
    value = row.value[:vw].rjust(vw) if vw else ""
    sw = width - lw - vw - 1
    if sw < 3:
        return [(label, "label"), (value, role), (" " * (width - lw - vw), "label")]
    cells = row.strip[:sw].ljust(sw) if row.strip is not None else spark(row, sw)
    return [(label, "label"), (value, role), (" ", "label"), (cells, row.severity or "spark")]


def wrap_notice(text: str, width: int, max_lines: int) -> list[str]:
    if width <= 0 or max_lines <= 0:
        return []
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1], width - 1).rstrip() + "…"
    return lines


def layout_lines(
    rows: Sequence[Row],
    notices: Sequence[Piece],
    width: int,
    height: int,
    spark: SparkFn,
    min_value_w: int = 0,
) -> list[Line]:
    """Lines that exactly fill width × (at most) height; the value column is at least
    `min_value_w` wide (a panel passes the widest it has shown, so sparklines do not shift)."""
    if width <= 0 or height <= 0:
        return []
    lines: list[Line] = []
    # Notices: all the room when there are no rows, else at most 2 lines.
    room = height if not rows else min(2, max(0, height - 1))
    for text, role in notices:
        for part in wrap_notice(text, width, room - len(lines)):
            lines.append(_merge([(_fit(part, width), role)]))
    free = height - len(lines)
    if not rows or free <= 0:
        return lines
    per_line = 1 if len(rows) <= free else math.ceil(len(rows) / free)
    per_line = max(1, min(per_line, (width + len(SEP)) // (MIN_CELL + len(SEP))))
    cell_w = (width - len(SEP) * (per_line - 1)) // per_line
    # the value column: as wide as the widest value, but leave the sparkline at least 8 cells
    lw = min(LABEL_W, max(4, cell_w // 3))
    value_w = max(6, min(18, max(min_value_w, *(len(r.value) for r in rows)), cell_w - lw - 1 - 8))
    capacity = per_line * free
    shown: list[Row | None] = list(rows)
    hidden = 0
    if len(rows) > capacity == 1:
        # one line for many rows (80x24 with a GPU): the panel's first row, its count at the end,
        # rather than a line that shows no value at all
        more = f" +{len(rows) - 1}"
        return [*lines, _merge([*_cell(rows[0], width - len(more), value_w, spark), (more, "dim")])]
    if len(rows) > capacity:
        hidden = len(rows) - capacity + 1
        shown = [*rows[: capacity - 1], None]
    for start in range(0, len(shown), per_line):
        pieces: list[Piece] = []
        for j, row in enumerate(shown[start : start + per_line]):
            if j:
                pieces.append((SEP, "label"))
            if row is None:
                pieces.append((_fit(f"+{hidden} more: enter for all", cell_w), "dim"))
            else:
                pieces.extend(_cell(row, cell_w, value_w, spark))
        used = sum(len(t) for t, _ in pieces)
        if used < width:
            pieces.append((" " * (width - used), "label"))
        lines.append(_merge(pieces))
    return lines


def one_line(row: Row, extra: str, width: int, spark: SparkFn) -> Line:
    """A whole panel in one line: label, value, a short sparkline, then extra text."""
    if width <= 0:
        return ()
    label = _fit(row.label, 5) + " "
    value = row.value[:6].rjust(6) + " "
    sw = min(12 if width >= 60 else 5, max(0, width - len(label) - len(value) - 8)) if row.key else 0
    cells = spark(row, sw) + " " if sw > 0 else ""
    rest = width - len(label) - len(value) - len(cells)
    pieces: list[Piece] = [
        (label, "label"),
        (value, row.severity or "value"),
        (cells, row.severity or "spark"),
        (_fit(extra, rest), "text"),
    ]
    return _merge(pieces)


def line_text(line: Line) -> str:
    return "".join(t for t, _ in line)
