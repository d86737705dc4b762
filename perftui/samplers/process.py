"""The "process" sampler: an attached process and its children (recursively).

Per tick it walks the tree (/proc/PID/task/*/children, else psutil), reads each
process with psutil (CPU times, RSS, threads, state, storage I/O) and /proc
(per-thread run-queue wait and context switches, fd links), and turns the
counters into per-second rates from per-process deltas (a process new since the
last tick contributes from its second tick on; the first tick has no rates).
GPU use comes from an optional callable returning the GPU sampler's latest
`gpu.processes` list, matched by host PID (see perftui.samplers.pids).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psutil

from perftui.core.details import ProcInfoDetail
from perftui.core.sanitize import clean, clean_text
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Sampler, Values
from perftui.samplers.pids import (
    ProcessWatch,
    children_of,
    fd_counts,
    gpu_pid_note,
    host_pid,
    thread_counters,
)

GpuProcesses = Callable[[], Sequence[Mapping[str, Any]] | None]

MAX_TREE = 512  # a fork bomb must not stall the sampler


USS_PERIOD_S = 5.0  # seconds between USS reads (smaps_rollup is costly for big address spaces)


class ProcessSampler(BaseSampler):
    name = "process"

    def __init__(
        self,
        pid: int,
        interval: float = 1.0,
        proc_root: str = "/proc",
        gpu_processes: GpuProcesses | None = None,
        watch: ProcessWatch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pid = pid
        self.interval = interval
        self.proc_root = proc_root
        self._gpu_processes = gpu_processes
        self.watch = watch or ProcessWatch(pid)
        self._clock = clock
        self._status = SourceStatus.ok()
        self._details: dict[str, Any] = {}
        self._prev_ts: float | None = None
        # keyed by (pid, create_time) so a reused PID never yields a bogus delta
        self._prev_proc: dict[tuple[int, float], tuple[float, int | None, int | None]] = {}
        self._prev_thread: dict[tuple[int, int], tuple[int | None, int | None, int | None]] = {}
        self._uss_denied = False
        self._uss_next = 0.0
        self._info: ProcInfoDetail | None = None
        if self.watch.create_time is None:
            self._status = SourceStatus.unavailable(f"no process with PID {pid}")

    def availability(self) -> SourceStatus:
        return self._status

    def details(self) -> Mapping[str, Any]:
        return self._details

    # -- one tick ----------------------------------------------------------
    def sample(self) -> Values:
        if not self._status.available:
            return {}
        exit_info = self.watch.check()
        if self._info is None:
            self._info = self._read_info()
        if exit_info is not None:
            self._status = SourceStatus.unavailable(exit_info.message)
            self._info.update(
                ProcInfoDetail(
                    status="exited",
                    exit_code=exit_info.code,
                    exited_at=exit_info.at,
                    message=exit_info.message,
                )
            )
            self._details = {"proc.info": self._info.copy(), "proc.tree": []}
            return {}
        now = self._clock()
        dt = None if self._prev_ts is None else now - self._prev_ts
        self._prev_ts = now

        gpu_by_pid = self._gpu_by_host_pid()
        tree: list[dict[str, Any]] = []
        values: Values = {}
        cpu_total = 0.0
        cpu_seen = False
        cpu_max: float | None = None
        rss = threads = files = sockets = 0
        # USS walks every mapping (smaps_rollup): on an H100 box it was 40 % of `perftui record --pid`'s
        # CPU for one torch process (CUDA maps a lot). It moves slowly: read it every USS_PERIOD_S.
        uss: int | None = None
        if now >= self._uss_next:
            self._uss_next = now + USS_PERIOD_S - 1e-6
            uss = 0
        fd_ok = True
        rd = wr = 0.0
        io_seen = False
        vol = invol = runq = 0.0
        thread_seen = False
        new_prev_proc: dict[tuple[int, float], tuple[float, int | None, int | None]] = {}
        new_prev_thread: dict[tuple[int, int], tuple[int | None, int | None, int | None]] = {}
        gpu_mem: dict[int, float] = {}
        gpu_sm: dict[int, float] = {}

        for proc in self._tree():
            row = self._read_proc(proc)
            if row is None:
                continue
            pid, ct = row["pid"], row.pop("_ct")
            zombie = row["state"] == psutil.STATUS_ZOMBIE
            threads += row["threads"] or 0
            rss += row["rss"] or 0
            cpu_s, rbytes, wbytes = row.pop("_cpu_s"), row.pop("_read"), row.pop("_write")
            prev = self._prev_proc.get((pid, ct))
            if not zombie and cpu_s is not None:
                new_prev_proc[(pid, ct)] = (cpu_s, rbytes, wbytes)
            if prev is not None and dt and dt > 0 and not zombie and cpu_s is not None:
                pct = max(0.0, (cpu_s - prev[0]) / dt * 100.0)
                row["cpu"] = pct
                cpu_total += pct
                cpu_seen = True
                cpu_max = pct if cpu_max is None else max(cpu_max, pct)
                if rbytes is not None and prev[1] is not None and wbytes is not None and prev[2] is not None:
                    rd += max(0, rbytes - prev[1]) / dt
                    wr += max(0, wbytes - prev[2]) / dt
                    io_seen = True
            if not zombie:
                counts = fd_counts(pid, self.proc_root)
                if counts is None:
                    fd_ok = False
                else:
                    files += counts[0]
                    sockets += counts[1]
                for tid, tc in thread_counters(pid, self.proc_root).items():
                    key = (pid, tid)
                    new_prev_thread[key] = (tc.vol_cs, tc.invol_cs, tc.runq_ns)
                    tprev = self._prev_thread.get(key)
                    if tprev is None or not dt or dt <= 0:
                        continue
                    thread_seen = True
                    if tc.vol_cs is not None and tprev[0] is not None:
                        vol += max(0, tc.vol_cs - tprev[0]) / dt
                    if tc.invol_cs is not None and tprev[1] is not None:
                        invol += max(0, tc.invol_cs - tprev[1]) / dt
                    if tc.runq_ns is not None and tprev[2] is not None:
                        runq += max(0, tc.runq_ns - tprev[2]) / 1e9 / dt
                if uss is not None:
                    u = self._uss(proc)
                    uss = None if u is None else uss + u
            matched = gpu_by_pid.get(host_pid(pid, self.proc_root), [])
            if matched:
                row["gpu_mem_bytes"] = sum(float(m.get("used_bytes") or 0) for m in matched)
                for m in matched:
                    g = int(m.get("gpu", 0))
                    if m.get("used_bytes") is not None:
                        gpu_mem[g] = gpu_mem.get(g, 0.0) + float(m["used_bytes"])
                    if m.get("sm_util") is not None:
                        gpu_sm[g] = gpu_sm.get(g, 0.0) + float(m["sm_util"])
            tree.append(row)

        self._prev_proc = new_prev_proc
        self._prev_thread = new_prev_thread
        if not tree:
            return {}
        values["proc.procs"] = float(len(tree))
        values["proc.threads"] = float(threads)
        values["proc.rss_bytes"] = float(rss)
        if uss is not None and not self._uss_denied:
            values["proc.uss_bytes"] = float(uss)  # every USS_PERIOD_S; absent (not 0) between
        if cpu_seen:
            values["proc.cpu"] = cpu_total
            values["proc.cpu_max_thread"] = cpu_max
        if io_seen:
            values["proc.read_bytes_per_s"] = rd
            values["proc.write_bytes_per_s"] = wr
        if thread_seen:
            values["proc.ctx_voluntary_per_s"] = vol
            values["proc.ctx_involuntary_per_s"] = invol
            values["proc.runq_wait"] = runq
        if fd_ok:
            values["proc.open_files"] = float(files)
            values["proc.sockets"] = float(sockets)
        if gpu_mem or gpu_sm:
            if gpu_mem:
                values["proc.gpu_mem_bytes"] = sum(gpu_mem.values())
            if gpu_sm:
                values["proc.gpu_sm_util"] = min(100.0, sum(gpu_sm.values()) / len(gpu_sm))
            for g, v in gpu_mem.items():
                values[f"proc.gpu.{g}.mem_bytes"] = v
            for g, v in gpu_sm.items():
                values[f"proc.gpu.{g}.sm_util"] = min(100.0, v)
        root_state = tree[0]["state"] if tree[0]["pid"] == self.pid else None
        self._info["status"] = "zombie" if root_state == psutil.STATUS_ZOMBIE else "running"
        if root_state == psutil.STATUS_ZOMBIE:
            self._info["exit_code"] = self.watch.zombie_code
        info = self._info.copy()
        note = gpu_pid_note(set(self._last_gpu_pids), self.proc_root) if self._last_gpu_pids else None
        if note:
            info["gpu_note"] = note
        self._details = {"proc.info": info, "proc.tree": tree}
        return values

    # -- helpers -----------------------------------------------------------
    _last_gpu_pids: tuple[int, ...] = ()

    def _gpu_by_host_pid(self) -> dict[int, list[Mapping[str, Any]]]:
        if self._gpu_processes is None:
            return {}
        try:
            entries = self._gpu_processes() or []
        except Exception:
            return {}
        out: dict[int, list[Mapping[str, Any]]] = {}
        for e in entries:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                out.setdefault(int(e["pid"]), []).append(e)
        self._last_gpu_pids = tuple(out)
        return out

    def _tree(self) -> list[psutil.Process]:
        """The root and its descendants, breadth first."""
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return []
        out = [root]
        kids = children_of(self.pid, self.proc_root)
        if kids is None:  # no /proc/PID/task/*/children: psutil scans every process's ppid
            with contextlib.suppress(psutil.Error):
                out.extend(root.children(recursive=True)[: MAX_TREE - 1])
            return out
        queue, seen = list(kids), {self.pid}
        while queue and len(out) < MAX_TREE:
            cpid = queue.pop(0)
            if cpid in seen:
                continue
            seen.add(cpid)
            with contextlib.suppress(psutil.Error):
                out.append(psutil.Process(cpid))
            queue.extend(children_of(cpid, self.proc_root) or [])
        return out

    def _read_proc(self, proc: psutil.Process) -> dict[str, Any] | None:
        try:
            with proc.oneshot():
                state = proc.status()
                ct = proc.create_time()
                ppid = proc.ppid()
                name = clean(proc.name())  # /proc/PID/comm is the process's own choice: no raw escapes
                zombie = state == psutil.STATUS_ZOMBIE
                cpu_s: float | None = None
                rss: int | None = None
                nthreads: int | None = None
                if not zombie:
                    t = proc.cpu_times()
                    cpu_s = t.user + t.system
                    rss = proc.memory_info().rss
                    nthreads = proc.num_threads()
                rbytes = wbytes = None
                if not zombie:
                    with contextlib.suppress(psutil.AccessDenied, AttributeError):
                        io = proc.io_counters()
                        rbytes, wbytes = io.read_bytes, io.write_bytes
        except psutil.NoSuchProcess:
            return None
        except psutil.AccessDenied:
            return None
        cmdline: list[str] = []
        with contextlib.suppress(psutil.Error):
            cmdline = [clean_text(a) for a in proc.cmdline()]
        return {
            "pid": proc.pid,
            "ppid": ppid,
            "name": name,
            "cmdline": cmdline,
            "cpu": None,
            "rss": rss,
            "threads": nthreads,
            "state": state,
            "gpu_mem_bytes": None,
            "_ct": ct,
            "_cpu_s": cpu_s,
            "_read": rbytes,
            "_write": wbytes,
        }

    def _uss(self, proc: psutil.Process) -> int | None:
        if self._uss_denied:
            return None
        try:
            return int(proc.memory_full_info().uss)
        except psutil.AccessDenied:
            self._uss_denied = True
            return None
        except (psutil.Error, AttributeError, OSError):
            return None

    def _read_info(self) -> ProcInfoDetail:
        info = ProcInfoDetail(
            pid=self.pid,
            name=None,
            cmdline=[],
            create_time=self.watch.create_time,
            username=None,
            status="running",
            exit_code=None,
            exited_at=None,
        )
        with contextlib.suppress(psutil.Error, KeyError):
            p = psutil.Process(self.pid)
            info["name"] = clean(p.name())
            info["cmdline"] = [clean_text(a) for a in p.cmdline()]
            info["username"] = clean(p.username())
        return info


def attach_samplers(
    pid: int,
    interval: float = 1.0,
    gpu_processes: GpuProcesses | None = None,
    *,
    stack_rate: float | None = None,
) -> list[Sampler]:
    """The samplers of `--pid` / `perftui attach PID`: the process tree and its Python stacks."""
    from perftui.samplers.stacks import DEFAULT_RATE, StackSampler

    watch = ProcessWatch(pid)
    return [
        ProcessSampler(pid, interval, gpu_processes=gpu_processes, watch=watch),
        StackSampler(pid, interval, rate=stack_rate or DEFAULT_RATE, watch=watch),
    ]
