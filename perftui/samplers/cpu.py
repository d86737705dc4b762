"""CPU source: total and per-core utilisation, time split, load and frequency.

Utilisation comes from deltas of `psutil.cpu_times(percpu=True)` taken by this
sampler (one call per tick), not from `cpu_percent`, whose hidden module-level
state would make two instances disturb each other. The first tick has nothing
to compare with, so it emits no utilisation.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psutil

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.procfs import join, read_text

# Fields of psutil's Linux `scputimes`; other platforms lack some (read as 0).
_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")

CpuTimesFn = Callable[[], Sequence[Any]]
FreqFn = Callable[[], float | None]


def _psutil_cpu_times() -> Sequence[Any]:
    return psutil.cpu_times(percpu=True)


FREQ_PERIOD_S = 5.0  # seconds between frequency reads; clocks change slowly next to a tick


def _psutil_mean_freq_mhz() -> float | None:
    try:
        freq = psutil.cpu_freq(percpu=False)
    except (NotImplementedError, OSError, AttributeError):
        return None
    if freq is None or not freq.current or freq.current <= 0:
        return None
    return float(freq.current)


def _vector(t: Any) -> tuple[float, ...]:
    return tuple(float(getattr(t, f, 0.0) or 0.0) for f in _FIELDS)


def _total(v: Sequence[float]) -> float:
    # Linux counts guest time inside user/nice as well: do not count it twice.
    return sum(v) - v[8] - v[9]


class CpuSampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        proc_root: str = "/proc",
        cpu_times: CpuTimesFn = _psutil_cpu_times,
        freq_mhz: FreqFn = _psutil_mean_freq_mhz,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "cpu"
        self.interval = interval
        self._proc_root = proc_root
        self._cpu_times = cpu_times
        self._freq_mhz = freq_mhz
        self._clock = clock
        self._prev: list[tuple[float, ...]] | None = None
        self._status: SourceStatus | None = None
        self._model: str | None = None
        self._freq_next = 0.0

    def availability(self) -> SourceStatus:
        if self._status is None:
            try:
                n = len(self._cpu_times())
            except Exception as exc:
                self._status = SourceStatus.unavailable(f"cannot read CPU times: {exc}")
            else:
                self._status = (
                    SourceStatus.ok() if n > 0 else SourceStatus.unavailable("no CPU times reported")
                )
        return self._status

    def sample(self) -> Values:
        cur = [_vector(t) for t in self._cpu_times()]
        out: Values = {"cpu.cores": float(len(cur))}
        prev, self._prev = self._prev, cur
        if prev is not None and len(prev) == len(cur):
            out.update(_utilisation(prev, cur))
        out.update(self._loadavg())
        now = self._clock()
        if now >= self._freq_next:  # psutil parses /proc/cpuinfo: 7 % of a recorder's CPU on 16 cores
            self._freq_next = now + FREQ_PERIOD_S - 1e-6
            out["cpu.freq_mhz"] = self._freq_mhz()
        return out

    def _loadavg(self) -> Values:
        text = read_text(join(self._proc_root, "loadavg"))
        if text is None:
            return {}
        parts = text.split()
        try:
            return {f"cpu.load{n}": float(parts[i]) for i, n in enumerate((1, 5, 15))}
        except (IndexError, ValueError):
            return {}

    def details(self) -> Mapping[str, Any]:
        if self._model is None:
            self._model = _cpu_model(self._proc_root)
        return {"cpu.model": self._model, "cpu.cores": len(self._prev or [])}


def _utilisation(prev: Sequence[Sequence[float]], cur: Sequence[Sequence[float]]) -> Values:
    """Per-core and total percentages from two readings of per-core times.

    A field that went backwards (iowait and idle can, on NO_HZ kernels) counts
    as 0, as psutil does; a core whose counters did not advance gives no
    value, and the totals use the cores that did.
    """
    out: Values = {}
    sums = [0.0] * len(_FIELDS)
    total_all = 0.0
    core_utils: list[float] = []
    for i, (p, c) in enumerate(zip(prev, cur, strict=True)):
        d = [max(0.0, b - a) for a, b in zip(p, c, strict=True)]
        total = _total(d)
        if total <= 0:
            continue
        busy = total - d[3] - d[4]
        util = min(100.0, max(0.0, 100.0 * busy / total))
        out[f"cpu.core.{i}.util"] = util
        core_utils.append(util)
        total_all += total
        for k, x in enumerate(d):
            sums[k] += x
    if total_all <= 0:
        return out
    pct = 100.0 / total_all
    busy_all = total_all - sums[3] - sums[4]
    out["cpu.util"] = min(100.0, max(0.0, busy_all * pct))
    out["cpu.user"] = (sums[0] + sums[1]) * pct
    out["cpu.system"] = sums[2] * pct
    out["cpu.iowait"] = sums[4] * pct
    out["cpu.irq"] = (sums[5] + sums[6]) * pct
    out["cpu.steal"] = sums[7] * pct
    out["cpu.core_max.util"] = max(core_utils)
    return out


def _cpu_model(proc_root: str) -> str:
    try:
        text = read_text(join(proc_root, "cpuinfo")) or ""
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model", "Processor") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"
