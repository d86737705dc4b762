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
from itertools import pairwise

import numpy as np

from perftui.store.ring import FloatArray

BLOCKS = "▁▂▃▄▅▆▇█"


def aligned_end(end: float, window: float, width: int) -> float:
    """`end` rounded up to the next column boundary."""
    col_s = window / width
    return math.ceil(end / col_s - 1e-9) * col_s


def bucket_max(
    ts: FloatArray, vals: FloatArray, *, end: float, window: float, width: int, gap: float | None = None
) -> list[float | None]:
    """Per-column maxima (None where no sample fell), with short gaps carried forward.

    Plain Python over the window's points: for the few dozen to few hundred points a sparkline
    covers, this is several times cheaper than a chain of small numpy calls.
    """
    out: list[float | None] = [None] * max(0, width)
    if width <= 0 or window <= 0 or ts.size == 0:
        return out
    start = end - window
    lo = int(np.searchsorted(ts, start, side="right"))
    hi = int(np.searchsorted(ts, end, side="right"))
    scale = width / window
    last_col = -1
    times = ts[lo:hi].tolist()
    for t, v in zip(times, vals[lo:hi].tolist(), strict=True):
        if v != v:  # NaN: absent
            continue
        # column j holds (start + j*c, start + (j+1)*c]
        c = math.ceil((t - start) * scale - 1e-9) - 1
        c = 0 if c < 0 else width - 1 if c >= width else c
        cur = out[c]
        if cur is None or v > cur:
            out[c] = v
        last_col = c
    if last_col < 0:
        return out
    if gap is None:
        diffs = sorted(b - a for a, b in pairwise(times))
        gap = 2.5 * diffs[len(diffs) // 2] if diffs else window
    col_s = window / width
    prev: float | None = None
    prev_i = -1
    for i in range(last_col + 1):
        cur = out[i]
        if cur is not None:
            prev, prev_i = cur, i
        elif prev is not None and (i - prev_i) * col_s <= gap:
            out[i] = prev
    return out


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
