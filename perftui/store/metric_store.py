"""MetricStore: ring buffers keyed by metric name, plus source status and details.

Writers are sampler threads (one per source); readers are the UI, the
diagnosis engine, the recorder. Memory is bounded: each key holds at most
`capacity` points, and the number of keys is bounded by the sources.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from perftui.core.types import SourceStatus, WindowStats
from perftui.store.ring import RingBuffer

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

DEFAULT_CAPACITY = 9000  # 15 min at 10 Hz, or 2.5 h at 1 Hz


def capacity_for(seconds: float, interval: float) -> int:
    """Points a key needs to hold `seconds` of history at one point per `interval` (with room for
    late ticks)."""
    return math.ceil(seconds / interval * 1.05) + 8


def compute_stats(values: FloatArray) -> WindowStats | None:
    """Mean, percentiles (linear interpolation, as numpy) and max; None when empty."""
    import numpy as np  # loaded on first use: the dashboard's first frame needs no numpy (ring.py)

    v = values[~np.isnan(values)]
    if v.size == 0:
        return None
    p50, p95, p99, p999 = np.percentile(v, [50.0, 95.0, 99.0, 99.9])
    return WindowStats(
        count=int(v.size),
        mean=float(v.mean()),
        p50=float(p50),
        p95=float(p95),
        p99=float(p99),
        p999=float(p999),
        max=float(v.max()),
        min=float(v.min()),
    )


def _no_points() -> tuple[FloatArray, FloatArray]:
    """The empty (times, values) of a key the store does not hold."""
    import numpy as np

    return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)


Listener = Callable[[float, Mapping[str, float]], None]


class MetricStore:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._buffers: dict[str, RingBuffer] = {}
        self._key_lock = threading.Lock()
        self._status: dict[str, SourceStatus] = {}
        self._last_sample: dict[str, float] = {}
        self._details: dict[str, Any] = {}
        self._last_ts = math.nan
        self._listeners: list[Listener] = []

    # -- writing ---------------------------------------------------------
    def append(self, ts: float, values: Mapping[str, float | None], source: str | None = None) -> None:
        """Add one tick; None and NaN values mean "absent" and are skipped."""
        written: dict[str, float] = {}
        for key, value in values.items():
            if value is None:
                continue
            fv = float(value)
            if math.isnan(fv):
                continue
            buf = self._buffers.get(key)
            if buf is None:
                with self._key_lock:
                    buf = self._buffers.get(key)
                    if buf is None:
                        buf = RingBuffer(self._capacity)
                        self._buffers[key] = buf
            buf.append(ts, fv)
            written[key] = fv
        if source is not None:
            self._last_sample[source] = ts
        if not (ts <= self._last_ts):  # also true when _last_ts is NaN
            self._last_ts = ts
        for listener in list(self._listeners):
            listener(ts, written)

    def extend(self, key: str, ts: FloatArray, values: FloatArray) -> None:
        """Bulk-load one key's points in time order (a recording); listeners are not called."""
        import numpy as np

        keep = ~np.isnan(values)
        ts, values = ts[keep], values[keep]
        if ts.size == 0:
            return
        with self._key_lock:
            buf = self._buffers.get(key)
            if buf is None:
                buf = RingBuffer(self._capacity)
                self._buffers[key] = buf
        buf.extend(ts, values)
        last = float(ts[-1])
        if not (last <= self._last_ts):
            self._last_ts = last

    def add_listener(self, listener: Listener) -> None:
        """Called (on the writer's thread) after each append with what was written."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def set_status(self, source: str, status: SourceStatus) -> None:
        self._status[source] = status

    def set_detail(self, key: str, value: Any) -> None:
        """Latest structured facts (GPU info, process lists, top stacks): not series."""
        self._details[key] = value

    def forget_source(self, source: str, detail_prefixes: tuple[str, ...] = ()) -> None:
        """`source` has stopped for good (a detached process): its status, last-sample time and the
        details starting with `detail_prefixes` go, as if it had never run; its series stay."""
        self._status.pop(source, None)
        self._last_sample.pop(source, None)
        for key in [k for k in self._details if k.startswith(detail_prefixes)] if detail_prefixes else []:
            self._details.pop(key, None)

    def ensure_capacity(self, capacity: int) -> None:
        """Let every key (and every key to come) hold `capacity` points; never shrinks, so the
        history already held stays (the dashboard grows its rings when sampling gets faster)."""
        with self._key_lock:
            if capacity <= self._capacity:
                return
            self._capacity = capacity
            buffers = list(self._buffers.values())
        for buf in buffers:
            buf.grow(capacity)

    # -- reading ---------------------------------------------------------
    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def last_ts(self) -> float | None:
        """The newest timestamp written: the store's own "now" (live or replay)."""
        return None if math.isnan(self._last_ts) else self._last_ts

    @property
    def shape(self) -> tuple[int, int]:
        """(series, details) counts: changes when a key appears (keys are never dropped)."""
        return len(self._buffers), len(self._details)

    def keys(self, prefix: str = "") -> list[str]:
        with self._key_lock:
            return sorted(k for k in self._buffers if k.startswith(prefix))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        return key in self._buffers

    def latest(self, key: str) -> float | None:
        buf = self._buffers.get(key)
        if buf is None:
            return None
        item = buf.latest()
        return None if item is None else item[1]

    def latest_with_ts(self, key: str) -> tuple[float, float] | None:
        buf = self._buffers.get(key)
        return None if buf is None else buf.latest()

    def window(self, key: str, seconds: float, now: float | None = None) -> tuple[FloatArray, FloatArray]:
        """Points of `key` in (now - seconds, now]; now defaults to the store's newest timestamp."""
        buf = self._buffers.get(key)
        end = self.last_ts if now is None else now
        if buf is None or end is None:
            return _no_points()
        ts, vals = buf.since(end - seconds, end)
        keep = ts > end - seconds
        return ts[keep], vals[keep]

    def points(self, key: str, seconds: float, now: float | None = None) -> tuple[list[float], list[float]]:
        """`window` as plain floats, without numpy (the dashboard's sparklines)."""
        buf = self._buffers.get(key)
        end = self.last_ts if now is None else now
        if buf is None or end is None:
            return [], []
        return buf.points(end - seconds, end)

    def after(self, key: str, t0: float, limit: int = 32) -> tuple[list[float], list[float]] | None:
        """Points of `key` newer than t0 as floats (empty when none); None when more than `limit`."""
        buf = self._buffers.get(key)
        return ([], []) if buf is None else buf.after(t0, limit)

    def series(self, key: str) -> tuple[FloatArray, FloatArray]:
        buf = self._buffers.get(key)
        if buf is None:
            return _no_points()
        return buf.all()

    def stats(self, key: str, seconds: float, now: float | None = None) -> WindowStats | None:
        _, vals = self.window(key, seconds, now)
        return compute_stats(vals)

    def status(self, source: str) -> SourceStatus | None:
        return self._status.get(source)

    def statuses(self) -> dict[str, SourceStatus]:
        return dict(self._status)

    def mark_sampled(self, source: str, ts: float) -> None:
        """`source` delivered a tick at `ts` (replay: values are appended without their source)."""
        self._last_sample[source] = ts

    def last_sample_ts(self, source: str) -> float | None:
        return self._last_sample.get(source)

    def detail(self, key: str, default: Any = None) -> Any:
        return self._details.get(key, default)

    def details(self, prefix: str = "") -> dict[str, Any]:
        return {k: v for k, v in self._details.items() if k.startswith(prefix)}

    def nbytes(self) -> int:
        with self._key_lock:
            bufs: Iterable[RingBuffer] = list(self._buffers.values())
        return sum(b.nbytes for b in bufs)
