"""DiagnosisWindow: the plain data the engine reads (series in a time window, plus details).

Built from a store by `DiagnosisWindow.from_store(store, seconds, patterns)` (the engine's
`window_from_store` passes the rules table's signals), or directly in tests.
Statistics (median, mean, P95, max) are computed lazily for every series at once, in one stacked
numpy pass per series length, and derived views (GPUs, CPU) are memoised: a rule pass reads each
series once however many rules use it.
NaN values are dropped (a missing value is absent, never a fake 0).
When the attached process has exited (detail `proc.info` with status "exited"), its series
(`proc.*`, `stack.*`) are left out: its last figures do not outlive it in the diagnosis.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from perftui.core.details import gpu_tier
from perftui.core.proctable_record import DETAIL_KEY
from perftui.store.metric_store import MetricStore

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

T = TypeVar("T")
_GPU_KEY = re.compile(r"^gpu\.(\d+)\.")
_EMPTY: FloatArray = np.empty(0, dtype=np.float64)
# The process tables ("proctable" details) each store has held, oldest first, kept while they are in
# some window: the detail itself is only the latest pass, and resident-set growth needs an older one.
_TABLES: weakref.WeakKeyDictionary[MetricStore, list[tuple[float, Any]]] = weakref.WeakKeyDictionary()


@dataclass
class DiagnosisWindow:
    """Values of each key in the window (time order), plus the store's details."""

    series: dict[str, FloatArray]
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 10.0
    end_ts: float | None = None
    start_ts: float | None = None  # the oldest point in the window (None: not known, e.g. from_values)
    _batch: dict[str, dict[str, float]] = field(default_factory=dict, repr=False, compare=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- construction ------------------------------------------------------
    @classmethod
    def from_values(
        cls,
        values: Mapping[str, Iterable[float] | float],
        details: Mapping[str, Any] | None = None,
        seconds: float = 10.0,
        end_ts: float | None = None,
    ) -> DiagnosisWindow:
        """Tests and replays: a scalar becomes a one-point series."""
        series: dict[str, FloatArray] = {}
        for key, v in values.items():
            arr = np.atleast_1d(np.asarray(v, dtype=np.float64))
            series[key] = arr[~np.isnan(arr)]
        return cls(series=series, details=dict(details or {}), seconds=seconds, end_ts=end_ts)

    @classmethod
    def from_store(
        cls,
        store: MetricStore,
        seconds: float,
        patterns: Iterable[str],
        now: float | None = None,
    ) -> DiagnosisWindow:
        """The last `seconds` of the keys matching `patterns` (fnmatch style)."""
        regex = _patterns_regex(tuple(patterns))
        end = store.last_ts if now is None else now
        series: dict[str, FloatArray] = {}
        details = {k: v for k, v in store.details().items() if _detail_wanted(k)}
        gone = process_exited(details)
        first: float | None = None
        if end is not None:
            for key in store.keys(""):
                if regex.fullmatch(key) is None or (gone and key.startswith(_PROCESS_KEYS)):
                    continue
                ts, vals = store.window(key, seconds, end)
                if vals.size:
                    series[key] = vals
                    first = float(ts[0]) if first is None else min(first, float(ts[0]))
        table = _first_table(store, seconds, end)
        if table is not None:
            details["proctable.first"] = table
        return cls(series=series, details=details, seconds=seconds, end_ts=end, start_ts=first)

    # -- access --------------------------------------------------------------
    def span_s(self) -> float | None:
        """Seconds between the oldest and the newest point (None when the times are not known)."""
        if self.start_ts is None or self.end_ts is None:
            return None
        return max(0.0, self.end_ts - self.start_ts)

    def has(self, key: str) -> bool:
        arr = self.series.get(key)
        return arr is not None and arr.size > 0

    def values(self, key: str) -> FloatArray:
        return self.series.get(key, _EMPTY)

    def keys(self, prefix: str = "", suffix: str = "") -> list[str]:
        every: list[str] = self.memo("keys", lambda: sorted(self.series))
        return [k for k in every if k.startswith(prefix) and k.endswith(suffix)]

    def detail(self, key: str, default: Any = None) -> Any:
        return self.details.get(key, default)

    def memo(self, name: str, make: Callable[[], T]) -> T:
        """Derived views (all GPUs, the CPU) computed once per window, shared by every rule."""
        if name not in self._memo:
            self._memo[name] = make()
        value: T = self._memo[name]
        return value

    def _batched(self, kind: str) -> dict[str, float]:
        """Median, mean and max of every series at once: one stacked array per series length, not
        numpy calls per key (a 60 s window of an 8-GPU box has hundreds of keys)."""
        out = self._batch.get(kind)
        if out is not None:
            return out
        groups: dict[int, list[str]] = {}
        for key, arr in self.series.items():
            if arr.size:
                groups.setdefault(int(arr.size), []).append(key)
        stats: dict[str, dict[str, float]] = {"median": {}, "mean": {}, "max": {}}
        for keys in groups.values():
            m = np.stack([self.series[k] for k in keys])  # a copy: partitioned in place below
            stats["mean"].update(zip(keys, m.mean(axis=1).tolist(), strict=True))
            stats["max"].update(zip(keys, m.max(axis=1).tolist(), strict=True))
            stats["median"].update(zip(keys, _quantile(m, 0.5).tolist(), strict=True))
        self._batch.update(stats)
        return self._batch[kind]

    def _stat(self, key: str, kind: str) -> float | None:
        if kind in ("median", "mean", "max"):
            return self._batched(kind).get(key)
        arr = self.series.get(key)
        if arr is None or arr.size == 0:
            return None
        if kind == "last":
            return float(arr[-1])
        ck = f"{kind}:{key}"  # p95: only a few keys need it, computed one by one
        if ck not in self._memo:
            self._memo[ck] = float(_quantile(arr.copy()[np.newaxis, :], 0.95)[0])
        value: float = self._memo[ck]
        return value

    def median(self, key: str) -> float | None:
        """The level of a signal: one noisy tick does not move it."""
        return self._stat(key, "median")

    def mean(self, key: str) -> float | None:
        """Shares of time (flags, stack shares): every tick counts equally."""
        return self._stat(key, "mean")

    def p95(self, key: str) -> float | None:
        return self._stat(key, "p95")

    def max(self, key: str) -> float | None:
        return self._stat(key, "max")

    def last(self, key: str) -> float | None:
        return self._stat(key, "last")

    # -- structure -----------------------------------------------------------
    def gpu_indices(self) -> list[int]:
        return self.memo("gpu_indices", self._gpu_indices)

    def _gpu_indices(self) -> list[int]:
        found = {int(m.group(1)) for k in self.series if (m := _GPU_KEY.match(k)) is not None}
        return sorted(found)

    def gpu_tier(self, index: int) -> str:
        """ "gpm", "nvml" or "lost": the sampler's detail, else inferred from the keys present."""
        tier = gpu_tier(self, index)
        if tier is not None:
            return tier
        return "gpm" if self.has(f"gpu.{index}.sm_active") else "nvml"

    def cores(self) -> int | None:
        n = self.last("cpu.cores")
        if n is None:
            d = self.details.get("cpu.cores")
            n = float(d) if isinstance(d, (int, float)) else None
        if n is None:
            per_core = self.keys("cpu.core.", ".util")
            return len(per_core) or None
        return int(n)

    def has_any(self, prefix: str) -> bool:
        return any(k.startswith(prefix) and v.size for k, v in self.series.items())


def _quantile(m: FloatArray, q: float) -> FloatArray:
    """Row-wise quantile with linear interpolation (numpy's default method); partitions m in place."""
    n = m.shape[1]
    pos = (n - 1) * q
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    m.partition((lo, hi) if hi != lo else lo, axis=1)
    out: FloatArray = m[:, lo] + (m[:, hi] - m[:, lo]) * (pos - lo)
    return out


_PROCESS_KEYS = ("proc.", "stack.")


def process_exited(details: Mapping[str, Any]) -> bool:
    """The attached process is gone (its sampler's `proc.info` says so)."""
    info = details.get("proc.info")
    return isinstance(info, Mapping) and info.get("status") == "exited"


@functools.lru_cache(maxsize=16)
def _patterns_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _first_table(store: MetricStore, seconds: float, end: float | None) -> Any:
    """The oldest process table published inside the window, when an older one than the latest is."""
    table = store.detail(DETAIL_KEY)
    ts = table.get("ts") if isinstance(table, dict) else None
    if not isinstance(ts, (int, float)):
        return None
    seen = _TABLES.setdefault(store, [])
    if not seen or seen[-1][0] < ts:
        seen.append((float(ts), table))
    elif seen[-1][0] > ts:  # the store was replayed from an earlier time: start again
        seen[:] = [(float(ts), table)]
    horizon = (end if end is not None else ts) - seconds
    while len(seen) > 1 and seen[0][0] < horizon:
        seen.pop(0)
    return seen[0][1] if len(seen) > 1 else None


def _detail_wanted(key: str) -> bool:
    # Tiers, clock-event names, GPU info, cpu facts, the attached process, who is on each GPU, and the
    # cgroups' names and folders (the container-limit findings quote them), the process table (culprits).
    if key.startswith("gpu.") and key.endswith((".tier", ".tier_reason", ".clock_events", ".info")):
        return True
    if key.startswith("cgroup."):
        return True
    return key in ("cpu.cores", "proc.info", "gpu.count", "net.nics", "gpu.processes", "proctable")
