"""The dashboard's layout rules: screen classes for a terminal size and GPU count, and the GPU grid.

Pure functions of (width, height, GPUs), so the first layout can be built in place at compose time
and later changes (a resize, GPUs that appear) apply the same rules. The classes are used in
app.tcss.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from textual.widget import Widget

MIN_SIZE = (80, 24)
WIDE = 160  # columns from which many GPUs take the wider share of the screen


def size_classes(width: int, height: int) -> dict[str, bool]:
    """Screen classes that depend on the terminal size (True: set, False: cleared)."""
    return {
        "-too-small": width < MIN_SIZE[0] or height < MIN_SIZE[1],
        "-tall": height >= 60,
        "-narrow": width < 120,
        "-short": height < 34,
    }


def gpu_classes(ids: list[int]) -> dict[str, bool]:
    """Screen classes that depend on the GPUs shown."""
    return {"-no-gpu": not ids, "-many-gpus": len(ids) >= 5}


def screen_classes(width: int, height: int, ids: list[int]) -> str:
    """Every layout class the screen starts with (`-wide` only matters, and is set, with GPUs)."""
    classes = {**size_classes(width, height), **gpu_classes(ids), "-wide": bool(ids) and width >= WIDE}
    return " ".join(name for name, on in classes.items() if on)


def body_height(height: int) -> int:
    """Rows between the header and the diagnosis/process panes (app.tcss's #bottom heights)."""
    return height - 2 - bottom_floor(height)


def bottom_floor(height: int) -> int:
    """The fewest rows the diagnosis/process row gets (app.tcss's #bottom heights)."""
    return 12 if height >= 60 else 6 if height < 34 else 8


def bottom_rows(height: int, body_want: int, bottom_want: int) -> int:
    """Rows for the diagnosis/process row of a `height`-row terminal: every row the panels above do
    not need (`body_want`: the taller column's content), and at least what its panes want
    (`bottom_want`) within 40 % of the screen (30 % under 45 rows). Never under `bottom_floor`;
    the panels keep at least 6 rows."""
    avail = height - 2  # header, footer
    share = 30 if height < 45 else 40
    rows = max(min(bottom_want, avail * share // 100), avail - body_want)
    return min(max(bottom_floor(height), rows), avail - 6)


def service_rows(height: int, n: int) -> int:
    """The most rows each of `n` service panels (serving, probe) may take in the right-hand column:
    together at most 40 % of it, so the GPU panels above keep most of it."""
    return max(4, body_height(height) * 2 // 5 // max(n, 1))


class GpuGrid(NamedTuple):
    """How the GPU panels are laid out: columns, rows, and whether each is one line."""

    cols: int
    rows: int
    compact: bool  # one line per GPU


def gpu_grid(width: int, height: int, n: int) -> GpuGrid:
    """How `n` GPU panels share the GPU column of a `width`×`height` terminal."""
    wide = width >= WIDE
    column = int(width * (0.68 if wide and n >= 5 else 0.5 if width < 120 else 0.6))
    body_h = body_height(height)
    cols = min(1 if n == 1 else 2, max(1, column // 44))
    rows = math.ceil(n / cols)
    if body_h // rows < 6:  # fewer than 4 lines per GPU: one line each, in one column
        return GpuGrid(1, n, True)
    return GpuGrid(cols, rows, False)


def arrange_gpu_grid(container: Widget, panels: Iterable[Widget], width: int, height: int) -> None:
    """Apply `gpu_grid` to the GPU container and its panels (mounted or not yet)."""
    panels = list(panels)
    grid = gpu_grid(width, height, len(panels))
    container.set_class(grid.compact, "-compact")
    for panel in panels:
        panel.set_class(grid.compact, "-oneline")
    if grid.compact:
        container.border_title = "GPUs"
    container.styles.grid_size_columns = grid.cols
    container.styles.grid_size_rows = grid.rows
    container.styles.grid_rows = "1" if grid.compact else "1fr"
