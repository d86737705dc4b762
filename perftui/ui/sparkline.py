"""Time-bucketed sparklines as plain strings (no Textual, no Fraction; numpy only in `fold`).

Column j of a sparkline of width W covers ((j-W)·c + end, (j-W+1)·c + end] with c = window/W and
`end` rounded up to a multiple of c, so the columns stay put between column boundaries: when a
column spans more than one sample, most ticks change only the last cell (fewer dirty cells, fewer
bytes to the terminal). Each column shows the maximum of its samples (peaks matter). An empty
column is carried forward from the previous sample only within `gap` seconds of it, so a stopped
source leaves a visible hole instead of a fake flat line. Missing = blank.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    if len(out) <= 0 or window <= 0 or ts.size == 0:
        return []
    import numpy as np  # the caller holds numpy arrays: already loaded

    lo = int(np.searchsorted(ts, end - window, side="right"))
    hi = int(np.searchsorted(ts, end, side="right"))
    times: list[float] = ts[lo:hi].tolist()
    fold_points(out, times, vals[lo:hi].tolist(), end=end, window=window)
    return times


def fold_points(
    out: list[float | None], times: list[float], vals: list[float], *, end: float, window: float
) -> int:
    """Fold points (time order) into `out` like `fold`; returns the first column that changed
    (len(out) when none did). Points outside (end - window, end] and NaN values are skipped."""
    width = len(out)
    first = width
    if width <= 0 or window <= 0:
        return first
    start = end - window
    scale = width / window
    for t, v in zip(times, vals, strict=True):
        if v != v or t <= start or t > end:  # NaN: absent
            continue
        # column j holds (start + j*c, start + (j+1)*c]
        c = math.ceil((t - start) * scale - 1e-9) - 1
        c = 0 if c < 0 else width - 1 if c >= width else c
        cur = out[c]
        if cur is None or v > cur:
            out[c] = v
            if c < first:
                first = c
    return first


def carry(cols: list[float | None], gap: float, col_s: float) -> list[float | None]:
    """A copy of `cols` with empty columns after a value filled with it, within `gap` seconds."""
    return carry_tail(cols, 0, gap, col_s)


def carry_tail(cols: list[float | None], start: int, gap: float, col_s: float) -> list[float | None]:
    """`carry(cols, ...)[start:]`, reading only the columns before `start` that can reach it.

    Empty columns after the last value stay empty (the source may simply not have sampled yet).
    """
    last_col = len(cols) - 1
    while last_col >= start and cols[last_col] is None:
        last_col -= 1
    prev: float | None = None
    prev_i = -1
    k = start - 1
    while k >= 0 and (start - k) * col_s <= gap:  # the value that may still reach `start`
        if cols[k] is not None:
            prev, prev_i = cols[k], k
            break
        k -= 1
    out: list[float | None] = []
    add = out.append
    for i in range(start, len(cols)):
        cur = cols[i]
        if cur is not None:
            prev, prev_i = cur, i
            add(cur)
        elif i <= last_col and prev is not None and (i - prev_i) * col_s <= gap:
            add(prev)
        else:
            add(None)
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
    top = hi if hi is not None else top_of(buckets)
    if top is None:
        return " " * len(buckets)
    return scaled(buckets, lo, top)


def top_of(buckets: list[float | None]) -> float | None:
    """The largest present value (None and NaN are absent); None when there is none."""
    present = [b for b in buckets if b is not None and b == b]
    return max(present) if present else None


def scaled(buckets: list[float | None], lo: float, top: float) -> str:
    """Block characters for `buckets` on the scale lo..top."""
    span = top - lo
    if span <= 0:
        span = 1.0
    k = (len(BLOCKS) - 1) / span
    top_i = len(BLOCKS) - 1
    # A plain loop with inline clamping: about twice as fast as min/max calls in a generator.
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
