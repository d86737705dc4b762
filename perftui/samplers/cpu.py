"""CPU source: total and per-core utilisation, time split, load and frequency.

Utilisation comes from deltas of the per-core times in `/proc/stat` taken by this sampler (one read
per tick) — what psutil's `cpu_times(percpu=True)` returns on Linux, read without importing psutil
(~10 ms of the dashboard's start, for one file); not from `cpu_percent`, whose hidden module-level
state would make two instances disturb each other. The first tick has nothing to compare with, so
it emits no utilisation.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.procfs import CLK_TCK, join, list_dir, read_str, read_text


class CpuTimes(NamedTuple):
    """One core's times in seconds: the fields of psutil's Linux `scputimes`, in /proc/stat's order
    (kernels older than 2.6.33 print fewer columns: the missing ones read 0)."""

    user: float = 0.0
    nice: float = 0.0
    system: float = 0.0
    idle: float = 0.0
    iowait: float = 0.0
    irq: float = 0.0
    softirq: float = 0.0
    steal: float = 0.0
    guest: float = 0.0
    guest_nice: float = 0.0


_FIELDS = CpuTimes._fields

CpuTimesFn = Callable[[], Sequence[Any]]
FreqFn = Callable[[], float | None]


def read_cpu_times(proc_root: str = "/proc") -> list[CpuTimes]:
    """Every core's times from `<proc_root>/stat` (the `cpuN` lines; the first, all-core line is
    skipped), in seconds. OSError when the file is missing or unreadable."""
    path = join(proc_root, "stat")
    text = read_text(path)
    if text is None:
        raise FileNotFoundError(f"{path} does not exist")
    width = len(_FIELDS)
    out: list[CpuTimes] = []
    for line in text.splitlines():
        if not line.startswith("cpu") or not line[3:4].isdigit():
            continue
        try:
            fields = [int(v) / CLK_TCK for v in line.split()[1 : width + 1]]
        except ValueError:
            continue
        out.append(CpuTimes(*fields))
    return out


FREQ_PERIOD_S = 5.0  # seconds between frequency reads; clocks change slowly next to a tick


def read_mean_freq_mhz(proc_root: str = "/proc", sys_root: str = "/sys") -> float | None:
    """The mean current core frequency, as psutil's Linux `cpu_freq(percpu=False).current` finds it:
    each cpufreq policy's `scaling_cur_freq` (kHz; `cpuinfo_cur_freq` where that is missing), or,
    without cpufreq (most VMs), the `cpu MHz` lines of /proc/cpuinfo. None when neither is there."""
    cpu = join(sys_root, "devices", "system", "cpu")
    dirs = [join(cpu, "cpufreq", d) for d in list_dir(join(cpu, "cpufreq")) if d.startswith("policy")]
    if not dirs:
        dirs = [join(cpu, d, "cpufreq") for d in list_dir(cpu) if d.startswith("cpu") and d[3:].isdigit()]
    khz: list[float] = []
    for d in dirs:
        raw = read_str(join(d, "scaling_cur_freq")) or read_str(join(d, "cpuinfo_cur_freq"))
        if raw is not None and raw.isdigit() and int(raw) > 0:
            khz.append(int(raw) / 1000.0)
    if khz:
        return sum(khz) / len(khz)
    try:
        text = read_text(join(proc_root, "cpuinfo")) or ""
    except OSError:
        return None
    mhz: list[float] = []
    for line in text.splitlines():
        if line[:7].lower() == "cpu mhz":
            try:
                value = float(line.partition(":")[2])
            except ValueError:
                continue
            if value > 0:
                mhz.append(value)
    return sum(mhz) / len(mhz) if mhz else None


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
        sys_root: str = "/sys",
        cpu_times: CpuTimesFn | None = None,
        freq_mhz: FreqFn | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "cpu"
        self.interval = interval
        self._proc_root = proc_root
        self._cpu_times: CpuTimesFn = cpu_times or (lambda: read_cpu_times(proc_root))
        self._freq_mhz: FreqFn = freq_mhz or (lambda: read_mean_freq_mhz(proc_root, sys_root))
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
        if now >= self._freq_next:  # read every tick, cpuinfo was 7 % of a recorder's CPU on 16 cores
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
