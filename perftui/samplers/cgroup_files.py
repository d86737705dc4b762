"""Where the cgroup hierarchies are mounted and how one cgroup's files read (v2, v1, hybrid).

Parsers are pure (text in, numbers out); `CgroupDirs.read()` does the file reads of one cgroup.
v2 (unified): cpu.max, cpu.stat (usage_usec, nr_periods, nr_throttled, throttled_usec), memory.max,
memory.high, memory.current, memory.events (high, max, oom_kill), {cpu,memory,io}.pressure.
v1 (a hierarchy per controller): cpu.cfs_quota_us + cpu.cfs_period_us, cpu.stat (nr_periods,
nr_throttled, throttled_time in ns), cpuacct.usage (ns), memory.limit_in_bytes, memory.usage_in_bytes,
memory.failcnt, memory.oom_control (oom_kill, kernels >= 4.13).
I/O limits and their use per device: cgroup_io.py (io.max; v1 blkio.throttle.*_device).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from perftui.core.cgroup_io import V1_FILES
from perftui.samplers.cgroup_io import (
    IoLimits,
    IoUse,
    has_iops,
    merge_v1,
    parse_blkio_devices,
    parse_io_max,
    parse_io_stat_devices,
)

# v1 prints "no limit" as the largest page-aligned signed 64-bit value (9223372036854771712).
V1_UNLIMITED = 2**62


@dataclass(frozen=True)
class Mounts:
    """Where the cgroup hierarchies are mounted (v2, and each v1 controller)."""

    v2: str | None = None  # mount point of the unified hierarchy
    v2_root: str = "/"
    v1: dict[str, tuple[str, str]] = field(default_factory=dict)  # controller -> (mount point, root)

    @property
    def mode(self) -> str:
        if self.v1 and self.v2:
            return "hybrid"
        return "v1" if self.v1 else ("v2" if self.v2 else "none")

    def v1_controller(self, name: str) -> bool:
        return name in self.v1


def _unescape(s: str) -> str:
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def parse_mountinfo(text: str) -> Mounts:
    """`/proc/self/mountinfo` -> the cgroup mounts (the first mount of each wins)."""
    v2: str | None = None
    v2_root = "/"
    v1: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf, rf = left.split(), right.split()
        if len(lf) < 5 or len(rf) < 3:
            continue
        fstype, root, point = rf[0], _unescape(lf[3]), _unescape(lf[4])
        if fstype == "cgroup2" and v2 is None:
            v2, v2_root = point, root
        elif fstype == "cgroup":
            for opt in rf[2].split(","):
                if opt in ("cpu", "cpuacct", "memory", "blkio", "pids", "cpuset") and opt not in v1:
                    v1[opt] = (point, root)
    return Mounts(v2, v2_root, v1)


def resolve(point: str, root: str, path: str) -> str:
    """A /proc/PID/cgroup path -> its directory under the mount (a container's mount root is
    its own cgroup: /proc/PID/cgroup then reads the path relative to the namespace, or the full one)."""
    rel = path
    if root != "/" and (path == root or path.startswith(root + "/")):
        rel = path[len(root) :]
    return os.path.normpath(point + "/" + rel.lstrip("/"))


def read_small(path: str) -> str | None:
    """A cgroup file's text; None when absent, gone (cgroup removed) or not readable."""
    try:  # a plain fd: a file object costs more than the read (the box-wide pass reads ~600)
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 8192).decode("ascii", "replace")
    except OSError:  # a directory, or the cgroup went between open and read
        return None
    finally:
        os.close(fd)


def parse_kv(text: str | None) -> dict[str, float]:
    """`key value` lines (cpu.stat, memory.events, oom_control) -> {key: value}."""
    out: dict[str, float] = {}
    if not text:
        return out
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            continue
    return out


def parse_limit(text: str | None) -> float | None:
    """memory.max / memory.high ("max" = none) and v1 limit_in_bytes (huge = none)."""
    if text is None:
        return None
    t = text.strip()
    if not t or t == "max":
        return None
    try:
        v = float(t)
    except ValueError:
        return None
    return None if v >= V1_UNLIMITED else v


def parse_cpu_max(text: str | None) -> tuple[float | None, float | None]:
    """cpu.max `quota period` ("max 100000" = no quota) -> (quota µs or None, period µs)."""
    if not text:
        return None, None
    parts = text.split()
    if len(parts) != 2:
        return None, None
    try:
        period = float(parts[1])
    except ValueError:
        return None, None
    if parts[0] == "max":
        return None, period
    try:
        return float(parts[0]), period
    except ValueError:
        return None, period


def parse_psi_totals(text: str | None) -> dict[str, float]:
    """A cgroup's *.pressure file -> {"some": total µs, "full": total µs}."""
    out: dict[str, float] = {}
    if not text:
        return out
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in ("some", "full"):
            for item in parts[1:]:
                if item.startswith("total="):
                    with contextlib.suppress(ValueError):
                        out[parts[0]] = float(item[6:])
    return out


def parse_io_stat(text: str | None) -> tuple[float | None, float | None]:
    """v2 io.stat (`MAJ:MIN rbytes=.. wbytes=.. ...` per device) -> bytes read, written (all devices)."""
    if text is None:
        return None, None
    rd = wr = 0.0
    for line in text.splitlines():
        for item in line.split()[1:]:
            k, _, v = item.partition("=")
            if k in ("rbytes", "wbytes") and v.isdigit():
                if k == "rbytes":
                    rd += float(v)
                else:
                    wr += float(v)
    return rd, wr


def parse_blkio(text: str | None) -> tuple[float | None, float | None]:
    """v1 blkio.throttle.io_service_bytes (`MAJ:MIN Read N` ...) -> bytes read, written."""
    if text is None:
        return None, None
    rd = wr = 0.0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            if parts[1] == "Read":
                rd += float(parts[2])
            elif parts[1] == "Write":
                wr += float(parts[2])
    return rd, wr


@dataclass
class Raw:
    """One read of one cgroup: counters (cumulative) and levels, in SI units (s, bytes)."""

    quota_cores: float | None = None
    cpu_usage_s: float | None = None
    nr_periods: float | None = None
    nr_throttled: float | None = None
    throttled_s: float | None = None
    mem_limit: float | None = None
    mem_high: float | None = None
    mem_used: float | None = None
    mem_limit_events: float | None = None  # v2 memory.events max; v1 memory.failcnt
    mem_high_events: float | None = None
    oom_kills: float | None = None
    io_read: float | None = None  # bytes, cumulative (v2 io.stat; v1 blkio io_service_bytes)
    io_write: float | None = None
    io_limits: IoLimits = field(default_factory=dict)  # device -> rbps/wbps/riops/wiops limit
    io_use: IoUse = field(default_factory=dict)  # the limited devices' cumulative counters
    io_read_done: bool = False  # read_io ran (the box-wide pass reads it early for I/O-limited ones)
    psi_us: dict[str, float] = field(default_factory=dict)  # "cpu.some" -> total µs
    gone: bool = False  # every file missing: the cgroup was removed


@dataclass(frozen=True)
class CgroupDirs:
    """The directories of one cgroup: one for v2, one per controller for v1."""

    v2: str | None = None
    cpu: str | None = None  # v1
    cpuacct: str | None = None  # v1
    memory: str | None = None  # v1
    blkio: str | None = None  # v1

    @property
    def cpu_dir(self) -> str | None:
        return self.v2 or self.cpu

    @property
    def memory_dir(self) -> str | None:
        return self.v2 or self.memory

    @property
    def io_dir(self) -> str | None:
        return self.v2 or self.blkio

    def read_io_limits(self) -> IoLimits:
        """io.max (v2, one file) or the four v1 blkio.throttle.*_device files."""
        if self.v2:
            return parse_io_max(read_small(self.v2 + "/io.max"))
        if self.blkio:
            return merge_v1({k: read_small(f"{self.blkio}/{f}") for k, f in V1_FILES.items()})
        return {}

    def read_io(self, r: Raw) -> None:
        """Bytes read and written (all devices), and the limited devices' counters."""
        r.io_read_done = True
        devs = set(r.io_limits)
        if self.v2:
            text = read_small(self.v2 + "/io.stat")
            r.io_read, r.io_write = parse_io_stat(text)
            if devs:
                r.io_use = parse_io_stat_devices(text, devs)
        elif self.blkio:
            text = read_small(self.blkio + "/blkio.throttle.io_service_bytes")
            r.io_read, r.io_write = parse_blkio(text)
            if devs:
                parse_blkio_devices(text, devs, "rbps", "wbps", r.io_use)
                if has_iops(r.io_limits):
                    ops = read_small(self.blkio + "/blkio.throttle.io_serviced")
                    parse_blkio_devices(ops, devs, "riops", "wiops", r.io_use)

    def read(
        self, *, limits: bool = True, psi: bool = True, events: bool = True, io_limits: IoLimits | None = None
    ) -> Raw:
        """`io_limits`: known ones (the caller re-reads them now and then), else read with `limits`."""
        raw = read_v2(self.v2, limits) if self.v2 else read_v1(self, limits)
        if io_limits is not None:
            raw.io_limits = io_limits
        elif limits and not raw.gone:
            raw.io_limits = self.read_io_limits()
        if events and not raw.gone:
            self.read_events(raw, psi)
        return raw

    def read_limits(self) -> Raw:
        """Only the limits (the tree walk's filter): CPU quota, memory.max / memory.high, io.max (v2;
        v1 blkio limits are read for the candidates only, in the walk)."""
        r = Raw()
        if self.v2:
            quota, period = parse_cpu_max(read_small(self.v2 + "/cpu.max"))
            if quota is not None and period:
                r.quota_cores = quota / period
            r.mem_limit = parse_limit(read_small(self.v2 + "/memory.max"))
            r.mem_high = parse_limit(read_small(self.v2 + "/memory.high"))
            r.io_limits = parse_io_max(read_small(self.v2 + "/io.max"))
            return r
        if self.cpu:
            q = parse_limit(read_small(self.cpu + "/cpu.cfs_quota_us"))
            if q is not None and q > 0:
                p = parse_limit(read_small(self.cpu + "/cpu.cfs_period_us"))
                r.quota_cores = q / p if p else None
        if self.memory:
            r.mem_limit = parse_limit(read_small(self.memory + "/memory.limit_in_bytes"))
        return r

    def read_events(self, r: Raw, psi: bool = True) -> None:
        """Memory events (limit hits, OOM kills) and PSI: the box-wide pass reads them only for
        the cgroups it publishes."""
        if self.v2:
            ev = parse_kv(read_small(self.v2 + "/memory.events"))
            r.mem_limit_events, r.mem_high_events, r.oom_kills = (
                ev.get("max"),
                ev.get("high"),
                ev.get("oom_kill"),
            )
            if psi:
                for res in ("cpu", "memory", "io"):
                    for kind, total in parse_psi_totals(read_small(f"{self.v2}/{res}.pressure")).items():
                        r.psi_us[f"{res}.{kind}"] = total
        elif self.memory:
            r.mem_limit_events = parse_limit(read_small(self.memory + "/memory.failcnt"))
            r.oom_kills = parse_kv(read_small(self.memory + "/memory.oom_control")).get("oom_kill")
        if not r.io_read_done:
            self.read_io(r)


def read_v2(d: str, limits: bool = True) -> Raw:
    r = Raw()
    stat = read_small(d + "/cpu.stat")
    if stat is None and not os.path.isdir(d):
        r.gone = True
        return r
    s = parse_kv(stat)
    if "usage_usec" in s:
        r.cpu_usage_s = s["usage_usec"] / 1e6
    r.nr_periods, r.nr_throttled = s.get("nr_periods"), s.get("nr_throttled")
    if "throttled_usec" in s:
        r.throttled_s = s["throttled_usec"] / 1e6
    if limits:
        quota, period = parse_cpu_max(read_small(d + "/cpu.max"))
        if quota is not None and period:
            r.quota_cores = quota / period
        r.mem_limit = parse_limit(read_small(d + "/memory.max"))
        r.mem_high = parse_limit(read_small(d + "/memory.high"))
    r.mem_used = parse_limit(read_small(d + "/memory.current"))
    return r


def read_v1(dirs: CgroupDirs, limits: bool = True) -> Raw:
    r = Raw()
    found = False
    if dirs.cpu:
        s = parse_kv(read_small(dirs.cpu + "/cpu.stat"))
        found = found or bool(s)
        r.nr_periods, r.nr_throttled = s.get("nr_periods"), s.get("nr_throttled")
        if "throttled_time" in s:
            r.throttled_s = s["throttled_time"] / 1e9
        if limits:
            q = parse_limit(read_small(dirs.cpu + "/cpu.cfs_quota_us"))
            p = parse_limit(read_small(dirs.cpu + "/cpu.cfs_period_us"))
            if q is not None and q > 0 and p:
                r.quota_cores = q / p
    if dirs.cpuacct:
        u = parse_limit(read_small(dirs.cpuacct + "/cpuacct.usage"))
        if u is not None:
            found, r.cpu_usage_s = True, u / 1e9
    if dirs.memory:
        used = read_small(dirs.memory + "/memory.usage_in_bytes")
        found = found or used is not None
        r.mem_used = parse_limit(used)
        if limits:
            r.mem_limit = parse_limit(read_small(dirs.memory + "/memory.limit_in_bytes"))
    r.gone = not found
    return r
