"""A fixed-capacity ring buffer of (timestamp, value) pairs backed by numpy."""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


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
        self._ts: FloatArray = np.empty(capacity, dtype=np.float64)
        self._vals: FloatArray = np.empty(capacity, dtype=np.float64)
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
        return int(self._ts.nbytes + self._vals.nbytes)

    def grow(self, capacity: int) -> None:
        """Make room for `capacity` points, keeping every point held (never shrinks)."""
        with self._lock:
            if capacity <= self._cap:
                return
            ts, vals = self._ordered()
            self._ts = np.empty(capacity, dtype=np.float64)
            self._vals = np.empty(capacity, dtype=np.float64)
            self._ts[: self._n] = ts
            self._vals[: self._n] = vals
            self._cap = capacity
            self._head = self._n

    def append(self, ts: float, value: float) -> None:
        with self._lock:
            self._ts[self._head] = ts
            self._vals[self._head] = value
            self._head = (self._head + 1) % self._cap
            if self._n < self._cap:
                self._n += 1

    def extend(self, ts: FloatArray, values: FloatArray) -> None:
        """Append many points at once (loading a recording); only the newest `capacity` stay."""
        n = int(min(len(ts), len(values)))
        if n == 0:
            return
        if n > self._cap:
            ts, values, n = ts[n - self._cap : n], values[n - self._cap : n], self._cap
        with self._lock:
            first = min(n, self._cap - self._head)
            self._ts[self._head : self._head + first] = ts[:first]
            self._vals[self._head : self._head + first] = values[:first]
            rest = n - first
            if rest:
                self._ts[:rest] = ts[first:n]
                self._vals[:rest] = values[first:n]
            self._head = (self._head + n) % self._cap
            self._n = min(self._cap, self._n + n)

    def latest(self) -> tuple[float, float] | None:
        with self._lock:
            if self._n == 0:
                return None
            i = (self._head - 1) % self._cap
            return float(self._ts[i]), float(self._vals[i])

    def after(self, t0: float, limit: int) -> tuple[list[float], list[float]] | None:
        """Entries with ts > t0 as plain floats in time order, read back from the newest; None
        when more than `limit` are (use `since` for those: it copies with numpy)."""
        with self._lock:
            ts_arr, vals_arr, cap = self._ts, self._vals, self._cap
            i = self._head
            times: list[float] = []
            values: list[float] = []
            for _ in range(min(self._n, limit + 1)):
                i = i - 1 if i else cap - 1
                t = float(ts_arr[i])
                if not t > t0:
                    break
                times.append(t)
                values.append(float(vals_arr[i]))
            else:
                if len(times) > limit:
                    return None
        times.reverse()
        values.reverse()
        return times, values

    def _ordered(self) -> tuple[FloatArray, FloatArray]:
        if self._n < self._cap:
            return self._ts[: self._n].copy(), self._vals[: self._n].copy()
        idx = np.r_[self._head : self._cap, 0 : self._head]
        return self._ts[idx], self._vals[idx]

    def all(self) -> tuple[FloatArray, FloatArray]:
        with self._lock:
            return self._ordered()

    def since(self, t0: float, t1: float | None = None) -> tuple[FloatArray, FloatArray]:
        """Entries with t0 <= ts (<= t1), in time order (copies of just those entries).

        The ring holds at most two time-ordered runs ([head, cap) then [0, head) once full); each is
        searched and sliced on its own, so a short window of a long ring copies only its points.
        """
        with self._lock:
            n, cap, head = self._n, self._cap, self._head
            runs = ((0, n),) if n < cap else ((head, cap), (0, head))
            ts_parts: list[FloatArray] = []
            val_parts: list[FloatArray] = []
            for a, b in runs:
                if a >= b:
                    continue
                run = self._ts[a:b]
                lo = a + int(np.searchsorted(run, t0, side="left"))
                hi = b if t1 is None else a + int(np.searchsorted(run, t1, side="right"))
                if hi > lo:
                    ts_parts.append(self._ts[lo:hi])
                    val_parts.append(self._vals[lo:hi])
            if len(ts_parts) == 1:
                return ts_parts[0].copy(), val_parts[0].copy()
            if ts_parts:
                return np.concatenate(ts_parts), np.concatenate(val_parts)
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
