"""Per-process GPU use: memory from the running-process lists, SM/memory % from process samples.

NVML reports host PIDs, also for processes inside containers. For each pid
visible in our /proc, `NSpid` in /proc/<pid>/status gives the pid inside its
own namespace; that is recorded as `container_pid` when it differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from perftui.core.details import GpuProcessDetail
from perftui.samplers.gpu_nvml import GpuDevice, ProcessSample
from perftui.samplers.nvml import Nvml

# Measured on an H100 (driver 580): nvmlDeviceGetProcessUtilization took 2.6 ms a call, NOT_FOUND
# answers included. The driver keeps per-process samples, so asking once a second (and only while a
# process is on the GPU) loses none of them.
UTIL_PERIOD_S = 1.0


def container_pid(pid: int, proc_root: str = "/proc") -> int | None:
    """The innermost namespace pid of a host pid (None: not nested, or not visible)."""
    try:
        text = Path(proc_root, str(pid), "status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("NSpid:"):
            parts = line.split()[1:]
            if len(parts) > 1:
                try:
                    return int(parts[-1])
                except ValueError:
                    return None
            return None
    return None


class ProcessTracker:
    """Per GPU: who holds memory, and their latest SM/memory utilisation samples."""

    def __init__(
        self, nv: Nvml, keep_s: float = 5.0, proc_root: str = "/proc", util_period_s: float = UTIL_PERIOD_S
    ) -> None:
        self.nv = nv
        self.util_period_s = util_period_s
        self._util_next: dict[int, float] = {}
        self.keep_s = keep_s
        self.proc_root = proc_root
        self._last_seen_us: dict[int, int] = {}
        self._util: dict[tuple[int, int], tuple[float | None, float | None, float]] = {}
        self._nspid: dict[int, int | None] = {}

    def sample(self, index: int, now: float) -> list[GpuProcessDetail]:
        dev = GpuDevice(self.nv, index)
        entries: dict[int, GpuProcessDetail] = {}
        kinds: tuple[Literal["compute", "graphics"], ...] = ("compute", "graphics")
        for kind in kinds:
            for p in dev.running_processes(kind):
                pid, used_b = p.pid, p.used_bytes
                prev = entries.get(pid)
                if prev is not None:  # listed as compute and graphics: one entry, the larger figure
                    if used_b is not None and (prev["used_bytes"] or 0) < used_b:
                        prev["used_bytes"] = used_b
                    continue
                entries[pid] = GpuProcessDetail(
                    gpu=index,
                    pid=pid,
                    used_bytes=used_b,
                    type=kind,
                    sm_util=None,
                    mem_util=None,
                    container_pid=None,
                )
        if entries and now >= self._util_next.get(index, 0.0):
            self._util_next[index] = now + self.util_period_s - 1e-6
            self._update_util(index, now)
        else:
            self._forget_stale(index, now)
        out = []
        for pid, e in entries.items():
            sm, mem, _ = self._util.get((index, pid), (None, None, 0.0))
            e["sm_util"] = sm
            e["mem_util"] = mem
            e["container_pid"] = self._container_pid(pid)
            out.append(e)
        return out

    def _update_util(self, index: int, now: float) -> None:
        last = self._last_seen_us.get(index, 0)
        samples = GpuDevice(self.nv, index).process_samples(last)
        # NOT_FOUND (no sample since `last`) answers None: keep what we had, for keep_s
        if samples:
            newest: dict[int, ProcessSample] = {}
            for s in samples:
                if s.pid not in newest or s.timestamp_us > newest[s.pid].timestamp_us:
                    newest[s.pid] = s
                last = max(last, s.timestamp_us)
            self._last_seen_us[index] = last
            for pid, s in newest.items():
                self._util[(index, pid)] = (s.sm_util, s.mem_util, now)
        self._forget_stale(index, now)

    def _forget_stale(self, index: int, now: float) -> None:
        stale = [k for k, v in self._util.items() if k[0] == index and now - v[2] > self.keep_s]
        for k in stale:
            del self._util[k]

    def _container_pid(self, pid: int) -> int | None:
        if pid not in self._nspid:
            if len(self._nspid) > 4096:
                self._nspid.clear()
            self._nspid[pid] = container_pid(pid, self.proc_root)
        return self._nspid[pid]
