"""Time-bucketed sparklines as plain strings (numpy, no Textual, no Fraction).

Column j of a sparkline of width W covers ((j-W)·c + end, (j-W+1)·c + end] with c = window/W and
`end` rounded up to a multiple of c, so the columns stay put between column boundaries: when a
column spans more than one sample, most ticks change only the last cell (fewer dirty cells, fewer
bytes to the terminal). Each column shows the maximum of its samples (peaks matter). An empty
column is carried forward from the previous sample only within `gap` seconds of it, so a stopped
source leaves a visible hole instead of a fake flat line. Missing = blank.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from perftui.store.ring import FloatArray

BLOCKS = "▁▂▃▄▅▆▇█"


def aligned_end(end: float, window: float, width: int) -> float:
    """`end` rounded up to the next column boundary."""
    col_s = window / width
    return math.ceil(end / col_s - 1e-9) * col_s


def fold(
    out: list[float | None], ts: FloatArray, vals: FloatArray, *, end: float, window: float
) -> list[float]:
    """Fold the points of (end - window, end] into the column maxima `out` (in place).

    Plain Python over the points: for the few dozen to few hundred points a sparkline covers,
    this is several times cheaper than a chain of small numpy calls. Returns the times folded.
    """
    width = len(out)
    if width <= 0 or window <= 0 or ts.size == 0:
        return []
    start = end - window
    lo = int(np.searchsorted(ts, start, side="right"))
    hi = int(np.searchsorted(ts, end, side="right"))
    scale = width / window
    times: list[float] = ts[lo:hi].tolist()
    for t, v in zip(times, vals[lo:hi].tolist(), strict=True):
        if v != v:  # NaN: absent
            continue
        # column j holds (start + j*c, start + (j+1)*c]
        c = math.ceil((t - start) * scale - 1e-9) - 1
        c = 0 if c < 0 else width - 1 if c >= width else c
        cur = out[c]
        if cur is None or v > cur:
            out[c] = v
    return times


def carry(cols: list[float | None], gap: float, col_s: float) -> list[float | None]:
    """A copy of `cols` with empty columns after a value filled with it, within `gap` seconds."""
    out = list(cols)
    last_col = len(out) - 1
    while last_col >= 0 and out[last_col] is None:
        last_col -= 1
    prev: float | None = None
    prev_i = -1
    for i in range(last_col + 1):
        cur = out[i]
        if cur is not None:
            prev, prev_i = cur, i
        elif prev is not None and (i - prev_i) * col_s <= gap:
            out[i] = prev
    return out


def bucket_max(
    ts: FloatArray, vals: FloatArray, *, end: float, window: float, width: int, gap: float | None = None
) -> list[float | None]:
    """Per-column maxima (None where no sample fell), with short gaps carried forward."""
    out: list[float | None] = [None] * max(0, width)
    times = fold(out, ts, vals, end=end, window=window)
    if not times or all(v is None for v in out):
        return out
    if gap is None:
        diffs = sorted(b - a for a, b in pairwise(times))
        gap = 2.5 * diffs[len(diffs) // 2] if diffs else window
    return carry(out, gap, window / width)


def levels(buckets: list[float | None], lo: float = 0.0, hi: float | None = None) -> str:
    """Map bucket values to block characters; None (or NaN) becomes a blank."""
    present = [b for b in buckets if b is not None and b == b]
    if not present:
        return " " * len(buckets)
    top = max(present) if hi is None else hi
    span = top - lo
    if span <= 0:
        span = 1.0
    k = (len(BLOCKS) - 1) / span
    top_i = len(BLOCKS) - 1
    # A plain loop with inline clamping: about twice as fast as min/max calls in a generator,
    # and this runs for every sparkline cell on every tick.
    out: list[str] = []
    add = out.append
    for b in buckets:
        if b is None or b != b:
            add(" ")
            continue
        i = int((b - lo) * k + 0.5)
        add(BLOCKS[0 if i < 0 else top_i if i > top_i else i])
    return "".join(out)


def sparkline(
    ts: FloatArray,
    vals: FloatArray,
    *,
    end: float,
    window: float,
    width: int,
    lo: float = 0.0,
    hi: float | None = None,
    gap: float | None = None,
    align: bool = True,
) -> str:
    """One sparkline string of exactly `width` cells."""
    if width <= 0:
        return ""
    if align:
        end = aligned_end(end, window, width)
    return levels(bucket_max(ts, vals, end=end, window=window, width=width, gap=gap), lo, hi)


def strip_chars(values: list[float | None], hi: float = 100.0) -> str:
    """One cell per value (the per-core strip): level of each current value, blank if missing."""
    return levels(list(values), 0.0, hi)


Fetch = Callable[[float], tuple[FloatArray, FloatArray]]


class SparkCache:
    """Column maxima kept between frames, so a frame folds in only the points that are new.

    One entry per (series, width). While the window and width stay and time moves forward by
    less than the width, the columns shift left by whole columns and only points newer than the
    last one folded are read (`fetch(seconds)` returns the series' points in the last `seconds`
    up to `end`); anything else (a resize, a new window, a replay seeking back) rebuilds the entry.
    """

    def __init__(self) -> None:
        self._cols: dict[tuple[str, int], tuple[float, float, float, list[float | None]]] = {}

    def clear(self) -> None:
        self._cols.clear()

    def sparkline(
        self,
        key: str,
        fetch: Fetch,
        *,
        end: float,
        window: float,
        width: int,
        lo: float = 0.0,
        hi: float | None = None,
        gap: float,
    ) -> str:
        if width <= 0:
            return ""
        col_s = window / width
        end = aligned_end(end, window, width)
        entry = self._cols.get((key, width))
        cols: list[float | None] = []
        upto = end - window
        fresh = True
        if entry is not None and entry[1] == window and end >= entry[0]:
            old_end, _, upto, cols = entry
            shift = round((end - old_end) / col_s)
            if shift < width:
                fresh = False
                if shift:
                    cols = cols[shift:] + [None] * shift
                ts, vals = fetch(max(0.0, end - upto) + col_s)
                keep = ts > upto
                ts, vals = ts[keep], vals[keep]
        if fresh:
            cols = [None] * width
            upto = end - window
            ts, vals = fetch(window + 2 * col_s)
        fold(cols, ts, vals, end=end, window=window)
        if ts.size:
            upto = float(ts[-1])
        self._cols[(key, width)] = (end, window, upto, cols)
        return levels(carry(cols, gap, col_s), lo, hi)
