"""A fixed-capacity ring buffer of (timestamp, value) pairs.

The points live in two stdlib `array('d')`: the samplers' appends and the live reads of a few points
(`latest`, `after`, `points`) are plain Python and never touch numpy. The bulk reads the analysis
code wants as numpy arrays (`since`, `all`) and the bulk load of a recording (`extend`) import numpy
when first called — so the dashboard draws its first frame without waiting for numpy's import
(~50 ms), which the diagnosis pays a moment later.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray: TypeAlias = npt.NDArray[np.float64]


def _zeros(n: int) -> array[float]:
    return array("d", bytes(8 * n))


def _doubles(values: FloatArray | Sequence[float]) -> array[float]:
    """`values` as an array('d') (a numpy array is copied through its bytes)."""
    if isinstance(values, array):
        return values
    import numpy as np

    return array("d", np.ascontiguousarray(values, dtype=np.float64).tobytes())


def as_float_array(values: array[float]) -> FloatArray:
    """A numpy float64 array over `values` (no copy: the caller hands over a fresh array)."""
    import numpy as np

    return np.frombuffer(values, dtype=np.float64)


class RingBuffer:
    """Fixed memory whatever the run length; one writer, many readers.

    Appends and reads take a tiny lock so a reader never sees a half-written
    slot; reads return copies in time order.
    """

    __slots__ = ("_cap", "_head", "_lock", "_n", "_ts", "_vals")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._cap = capacity
        self._ts = _zeros(capacity)
        self._vals = _zeros(capacity)
        self._n = 0  # number of valid entries
        self._head = 0  # next write position
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._cap

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        return self._ts.itemsize * (len(self._ts) + len(self._vals))

    def grow(self, capacity: int) -> None:
        """Make room for `capacity` points, keeping every point held (never shrinks)."""
        with self._lock:
            if capacity <= self._cap:
                return
            ts, vals = self._ordered()
            ts.extend(_zeros(capacity - self._n))
            vals.extend(_zeros(capacity - self._n))
            self._ts, self._vals = ts, vals
            self._cap = capacity
            self._head = self._n

    def append(self, ts: float, value: float) -> None:
        with self._lock:
            self._ts[self._head] = ts
            self._vals[self._head] = value
            self._head = (self._head + 1) % self._cap
            if self._n < self._cap:
                self._n += 1

    def extend(self, ts: FloatArray | Sequence[float], values: FloatArray | Sequence[float]) -> None:
        """Append many points at once (loading a recording); only the newest `capacity` stay."""
        n = int(min(len(ts), len(values)))
        if n == 0:
            return
        src_ts, src_vals = _doubles(ts), _doubles(values)
        start = max(0, n - self._cap)
        n -= start
        with self._lock:
            first = min(n, self._cap - self._head)
            head = self._head
            self._ts[head : head + first] = src_ts[start : start + first]
            self._vals[head : head + first] = src_vals[start : start + first]
            rest = n - first
            if rest:
                self._ts[:rest] = src_ts[start + first : start + n]
                self._vals[:rest] = src_vals[start + first : start + n]
            self._head = (head + n) % self._cap
            self._n = min(self._cap, self._n + n)

    def latest(self) -> tuple[float, float] | None:
        with self._lock:
            if self._n == 0:
                return None
            i = (self._head - 1) % self._cap
            return self._ts[i], self._vals[i]

    def after(self, t0: float, limit: int) -> tuple[list[float], list[float]] | None:
        """Entries with ts > t0 as plain floats in time order, read back from the newest; None
        when more than `limit` are (use `points` or `since` for those)."""
        with self._lock:
            ts_arr, vals_arr, cap = self._ts, self._vals, self._cap
            i = self._head
            times: list[float] = []
            values: list[float] = []
            for _ in range(min(self._n, limit + 1)):
                i = i - 1 if i else cap - 1
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
        """The ring's time-ordered runs of slots: [0, n) until it is full, then [head, cap), [0, head)."""
        n, cap, head = self._n, self._cap, self._head
        return ((0, n),) if n < cap else ((head, cap), (0, head))

    def _spans(self, t0: float, t1: float | None, *, open_start: bool) -> list[tuple[int, int]]:
        """Slot ranges whose times are > t0 (open_start) or >= t0, and <= t1, in time order."""
        ts = self._ts
        find = bisect_right if open_start else bisect_left
        spans = []
        for a, b in self._runs():
            if a >= b:
                continue
            lo = find(ts, t0, a, b)
            hi = b if t1 is None else bisect_right(ts, t1, a, b)
            if hi > lo:
                spans.append((lo, hi))
        return spans

    def points(self, after: float, upto: float | None = None) -> tuple[list[float], list[float]]:
        """Entries with after < ts (<= upto) as plain floats in time order (no numpy)."""
        times: list[float] = []
        values: list[float] = []
        with self._lock:
            for lo, hi in self._spans(after, upto, open_start=True):
                times += self._ts[lo:hi].tolist()
                values += self._vals[lo:hi].tolist()
        return times, values

    def _ordered(self) -> tuple[array[float], array[float]]:
        if self._n < self._cap:
            return self._ts[: self._n], self._vals[: self._n]
        h = self._head
        return self._ts[h:] + self._ts[:h], self._vals[h:] + self._vals[:h]

    def all(self) -> tuple[FloatArray, FloatArray]:
        with self._lock:
            ts, vals = self._ordered()
        return as_float_array(ts), as_float_array(vals)

    def since(self, t0: float, t1: float | None = None) -> tuple[FloatArray, FloatArray]:
        """Entries with t0 <= ts (<= t1), in time order (copies of just those entries).

        The ring holds at most two time-ordered runs ([head, cap) then [0, head) once full); each is
        searched and sliced on its own, so a short window of a long ring copies only its points.
        """
        ts, vals = array("d"), array("d")
        with self._lock:
            for lo, hi in self._spans(t0, t1, open_start=False):
                ts += self._ts[lo:hi]
                vals += self._vals[lo:hi]
        return as_float_array(ts), as_float_array(vals)
