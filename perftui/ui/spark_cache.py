"""Sparklines kept between frames: each frame folds in only the new points and redraws the tail.

A live dashboard redraws every sparkline every tick, and most of each one is what it was a tick
ago, shifted left by a column or so. `SparkCache` keeps per series the column maxima, the
columns after gap-carrying and the drawn text; a frame shifts them by whole columns, folds in the
points newer than the last one it saw (read as a few floats, not a window copy), recomputes
carrying from the first column that can have changed and redraws only from there — unless the
scale moved (an autoscaled series whose maximum changed), which redraws the whole line. A resize,
a new window or gap, or time going back (a replay seeking) rebuilds the entry. The result is
always exactly what `sparkline.sparkline` draws from scratch (tests/ui/test_spark_cache.py).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from perftui.ui.sparkline import aligned_end, carry_tail, fold_points, scaled, top_of

# the series' points in the last `seconds` (up to the frame's end) as plain floats, in time order
Fetch = Callable[[float], tuple[list[float], list[float]]]
# points strictly after a time, as plain floats; None when there are too many to bother
FetchNew = Callable[[float], tuple[list[float], list[float]] | None]


@dataclass
class _Entry:
    """One sparkline as the last frame drew it (see the module docstring)."""

    end: float  # column-aligned end of the last frame
    window: float
    gap: float
    upto: float  # time of the newest point folded in
    cols: list[float | None]  # column maxima
    carried: list[float | None]  # cols with short gaps carried forward
    scale: tuple[float, float] | None  # (lo, top) the text was drawn with
    text: str


class SparkCache:
    """One entry per (series, width); see the module docstring."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], _Entry] = {}

    def clear(self) -> None:
        self._entries.clear()

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
        fetch_new: FetchNew | None = None,
    ) -> str:
        """`width` cells for `key` up to `end`. `fetch(seconds)` returns the series' points in the
        last `seconds` up to `end`; `fetch_new(t)` (optional, cheaper) those after time t."""
        if width <= 0:
            return ""
        col_s = window / width
        end = aligned_end(end, window, width)
        entry = self._entries.get((key, width))
        if entry is not None and entry.window == window and entry.gap == gap and end >= entry.end:
            shift = round((end - entry.end) / col_s)
            if shift < width:
                return self._advance(entry, shift, fetch, fetch_new, end, col_s, lo, hi)
        cols: list[float | None] = [None] * width
        times, values = fetch(window + 2 * col_s)
        fold_points(cols, times, values, end=end, window=window)
        upto = times[-1] if times else end - window
        carried = carry_tail(cols, 0, gap, col_s)
        top = hi if hi is not None else top_of(cols)
        scale = None if top is None else (lo, top)
        text = " " * width if top is None else scaled(carried, lo, top)
        self._entries[(key, width)] = _Entry(end, window, gap, upto, cols, carried, scale, text)
        return text

    @staticmethod
    def _advance(
        e: _Entry,
        shift: int,
        fetch: Fetch,
        fetch_new: FetchNew | None,
        end: float,
        col_s: float,
        lo: float,
        hi: float | None,
    ) -> str:
        width = len(e.cols)
        old_last = width - 1  # the last column that held a value, in the shifted frame
        while old_last >= 0 and e.cols[old_last] is None:
            old_last -= 1
        old_last -= shift
        if shift:
            e.cols = e.cols[shift:] + [None] * shift
        cols = e.cols
        new = fetch_new(e.upto) if fetch_new is not None else None
        if new is None:
            times, values = fetch(max(0.0, end - e.upto) + col_s)
            n = bisect_right(times, e.upto)
            new = times[n:], values[n:]
        times, values = new
        if times and times[-1] > end:  # not yet on screen: leave them for a later frame
            n = bisect_right(times, end)
            times, values = times[:n], values[:n]
        changed = min(width - shift, fold_points(cols, times, values, end=end, window=e.window))
        if times:
            e.upto = times[-1]
        e.end = end
        # Carrying at column i depends on the columns up to i and on whether a value follows:
        # columns before both the first change and the old last value are as they were, except
        # that a value which fell off the left edge no longer fills the columns after it.
        keep_to = max(0, min(changed, old_last + 1))
        first_value = 0
        while first_value < keep_to and cols[first_value] is None:
            first_value += 1
        head = [None] * first_value + e.carried[shift + first_value : shift + keep_to]
        e.carried = head + carry_tail(cols, keep_to, e.gap, col_s)
        top = hi if hi is not None else top_of(cols)
        scale = None if top is None else (lo, top)
        if scale is None:
            e.text = " " * width
        elif scale != e.scale:
            e.text = scaled(e.carried, lo, scale[1])
        else:
            old = e.text
            e.text = (
                " " * first_value
                + old[shift + first_value : shift + keep_to]
                + scaled(e.carried[keep_to:], lo, scale[1])
            )
        e.scale = scale
        return e.text
