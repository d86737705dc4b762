"""A bounded ring buffer of (timestamp, value) pairs.

Points live in two `array.array('d')` that grow with the data up to the capacity, then wrap: memory
follows what is held, and the writer's path (append) and the dashboard's per-frame reads (latest,
after) are plain Python floats. Window reads (since, all) return numpy arrays; numpy is imported on
the first of them, so a dashboard can draw its first frame before numpy has loaded.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


def lazy_numpy() -> Any:
    """numpy, imported on first use (~0.1 s and 12 MB that the first frame does without)."""
    import numpy

    return numpy


class RingBuffer:
    """Bounded memory whatever the run length; one writer, many readers.

    Appends and reads take a tiny lock so a reader never sees a half-written
    slot; reads return copies in time order.
    """

    __slots__ = ("_cap", "_head", "_lock", "_ts", "_vals")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._cap = capacity
        # Until full the arrays grow (their length is the number held, the next write goes at the
        # end); once full, `_head` is the oldest point and the next slot to overwrite.
        self._ts = array("d")
        self._vals = array("d")
        self._head = 0
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._cap

    def __len__(self) -> int:
        return len(self._ts)

    @property
    def nbytes(self) -> int:
        return (len(self._ts) + len(self._vals)) * self._ts.itemsize

    def _full(self) -> bool:
        return len(self._ts) >= self._cap

    def grow(self, capacity: int) -> None:
        """Make room for `capacity` points, keeping every point held (never shrinks)."""
        with self._lock:
            if capacity <= self._cap:
                return
            if self._full() and self._head:
                h = self._head
                self._ts = self._ts[h:] + self._ts[:h]
                self._vals = self._vals[h:] + self._vals[:h]
            self._head = 0
            self._cap = capacity

    def append(self, ts: float, value: float) -> None:
        with self._lock:
            if len(self._ts) < self._cap:
                self._ts.append(ts)
                self._vals.append(value)
                return
            h = self._head
            self._ts[h] = ts
            self._vals[h] = value
            self._head = h + 1 if h + 1 < self._cap else 0

    def extend(self, ts: FloatArray, values: FloatArray) -> None:
        """Append many points at once (loading a recording); only the newest `capacity` stay."""
        n = int(min(len(ts), len(values)))
        if n == 0:
            return
        np = lazy_numpy()
        new_ts = np.asarray(ts[:n], dtype=np.float64)[-self._cap :]
        new_vals = np.asarray(values[:n], dtype=np.float64)[-self._cap :]
        with self._lock:
            all_ts, all_vals = self._ordered_arrays()
            all_ts.frombytes(new_ts.tobytes())
            all_vals.frombytes(new_vals.tobytes())
            extra = len(all_ts) - self._cap
            if extra > 0:
                del all_ts[:extra]
                del all_vals[:extra]
            self._ts, self._vals, self._head = all_ts, all_vals, 0

    def latest(self) -> tuple[float, float] | None:
        with self._lock:
            if not self._ts:
                return None
            i = (self._head if self._full() else len(self._ts)) - 1
            return self._ts[i], self._vals[i]

    def after(self, t0: float, limit: int) -> tuple[list[float], list[float]] | None:
        """Entries with ts > t0 as plain floats in time order, read back from the newest; None
        when more than `limit` are (use `since` for those)."""
        with self._lock:
            ts_arr, vals_arr = self._ts, self._vals
            n = len(ts_arr)
            i = self._head if n >= self._cap else n
            times: list[float] = []
            values: list[float] = []
            for _ in range(min(n, limit + 1)):
                i = i - 1 if i else n - 1
                t = ts_arr[i]
                if not t > t0:
                    break
                times.append(t)
                values.append(vals_arr[i])
            else:
                if len(times) > limit:
                    return None
        times.reverse()
        values.reverse()
        return times, values

    def _runs(self) -> tuple[tuple[int, int], ...]:
        """The index ranges that hold the points in time order (two once the ring has wrapped)."""
        n, h = len(self._ts), self._head
        if n < self._cap or h == 0:
            return ((0, n),)
        return ((h, n), (0, h))

    def _ordered_arrays(self) -> tuple[array[float], array[float]]:
        runs = self._runs()
        ts, vals = array("d"), array("d")
        for a, b in runs:
            ts += self._ts[a:b]
            vals += self._vals[a:b]
        return ts, vals

    def all(self) -> tuple[FloatArray, FloatArray]:
        np = lazy_numpy()
        with self._lock:
            ts, vals = self._ordered_arrays()
        return np.frombuffer(ts, dtype=np.float64), np.frombuffer(vals, dtype=np.float64)

    def since(self, t0: float, t1: float | None = None) -> tuple[FloatArray, FloatArray]:
        """Entries with t0 <= ts (<= t1), in time order (copies of just those entries).

        The ring holds at most two time-ordered runs; each is searched and sliced on its own, so a
        short window of a long ring copies only its points.
        """
        np = lazy_numpy()
        ts, vals = array("d"), array("d")
        with self._lock:
            for a, b in self._runs():
                lo = bisect_left(self._ts, t0, a, b)
                hi = b if t1 is None else bisect_right(self._ts, t1, lo, b)
                if hi > lo:
                    ts += self._ts[lo:hi]
                    vals += self._vals[lo:hi]
        return np.frombuffer(ts, dtype=np.float64), np.frombuffer(vals, dtype=np.float64)
