"""Checks of the container-limit rules: CPU quota throttling, memory held at a cgroup limit, OOM kills,
I/O held at a cgroup I/O limit (io.max, v1 blkio throttle).

A cgroup's limit, not the host, is what holds a containerised workload back when it is throttled in
most of its quota periods while the host has idle cores, or when its memory sits at its limit with
reclaim (limit hits), stalls (cgroup PSI) or OOM kills. Read from the `cgroup.<name>.*` keys of the
cgroup sampler; the detail `cgroup.groups` gives each name's label and directories. One hit per rule
(the worst cgroup), the others named in its evidence.
"""

from __future__ import annotations

import re
from typing import Any

from perftui.core.cgroup_io import KINDS as IO_KINDS
from perftui.core.cgroup_io import V1_FILES as V1_IO_FILES
from perftui.core.units import Unit, format_value
from perftui.diagnosis.ruledef import Hit, Rule, strength
from perftui.diagnosis.signals import cpu_view, fmt, pct
from perftui.diagnosis.window import DiagnosisWindow

CPU_QUOTA = (
    "Raise the CPU limit (or the pod's request and limit) to what the work uses at peak",
    "Remove the CPU limit for latency-sensitive pods (keep the request): throttling adds up to a "
    "whole period (100 ms) of delay",
    "Run fewer threads per container (torch.set_num_threads, OMP_NUM_THREADS, worker counts): each "
    "thread burns the shared quota",
    "Spread the work over more replicas instead of one throttled container",
)
MEMORY_LIMIT = (
    "Raise the cgroup's memory limit (pod limit, docker --memory) above the working set",
    "Shrink the page-cache footprint: stream files once, drop caches you re-read (posix_fadvise), "
    "memory-map instead of copying",
    "Reduce the resident set: smaller batches, fewer workers, no per-worker dataset copies",
    "Set memory.high a little below memory.max so the kernel reclaims before OOM kills",
)
# {path}: the directory from the sampler's detail `cgroup.groups`; a window without it gets a shell
# expression that finds the directory by the name's distinctive part (still a command that runs)
CAT_CPU_STAT = "cat {path}/cpu.stat"
CAT_MEMORY = "cat {path}/{memfile}"
_HEX12 = re.compile(r"-([0-9a-f]{12})$")


def _groups(w: DiagnosisWindow) -> dict[str, Any]:
    g = w.detail("cgroup.groups")
    return g if isinstance(g, dict) else {}


def names(w: DiagnosisWindow, suffix: str) -> list[str]:
    """Cgroup names with a series of `cgroup.<name>.<suffix>` in the window."""
    return [k[len("cgroup.") : -len(suffix) - 1] for k in w.keys("cgroup.", "." + suffix)]


def label(w: DiagnosisWindow, name: str) -> str:
    info = _groups(w).get(name)
    if isinstance(info, dict) and isinstance(info.get("label"), str) and info["label"]:
        return str(info["label"])
    return name


def _dir(w: DiagnosisWindow, name: str, which: str, file: str) -> str:
    info = _groups(w).get(name)
    if isinstance(info, dict) and isinstance(info.get(which), str) and info[which]:
        return str(info[which])
    base = name.split("~", 1)[0]
    m = _HEX12.search(base)
    if "-ctr-" in base:
        frag = base.split("-ctr-", 1)[1]
    elif m:
        frag = m.group(1)
    elif base.startswith("pod-"):
        frag = base[4:]
    else:
        frag = base.rsplit("_", 1)[-1]
    return f"$(dirname \"$(find /sys/fs/cgroup -path '*{frag}*' -name {file} | head -1)\")"


def _subject(w: DiagnosisWindow, name: str) -> str:
    return "proc" if w.detail("cgroup.attached") == name else f"cgroup.{name}"


def _share_nonzero(w: DiagnosisWindow, key: str) -> float:
    v = w.values(key)
    return float((v > 0).mean()) if v.size else 0.0


def _window_sum(w: DiagnosisWindow, key: str) -> float:
    v = w.values(key)
    return float(v.sum()) if v.size else 0.0


def cpu_quota(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Throttled in most periods ([KMIX] line) while it uses (nearly) all of its quota."""
    firing: list[tuple[float, str]] = []
    for name in names(w, "throttled_pct"):
        share = w.median(f"cgroup.{name}.throttled_pct")
        if r.th["throttled"].ge(share, sticky):
            assert share is not None
            firing.append((share, name))
    if not firing:
        return []
    firing.sort(reverse=True)
    share, name = firing[0]
    p = f"cgroup.{name}."
    quota, used = w.median(p + "cpu_quota_cores"), w.median(p + "cpu_used_cores")
    c = cpu_view(w)
    idle = c.cores * (1 - c.util / 100) if c.cores and c.util is not None else None
    where = f" while the host has {idle:.1f} idle cores" if idle is not None else ""
    at = f" at {quota:.2g} CPU" if quota is not None else ""
    host = f"; host CPU {pct(c.util)} across {c.cores} cores" if c.util is not None and c.cores else ""
    ev = [f"{label(w, name)}: throttled in {pct(share)} of its quota periods (median){host}"]
    if used is not None and quota:
        ev.append(f"using {used:.2f} of its {quota:.2g} CPU quota ({pct(100 * used / quota)})")
    tps = w.median(p + "throttled_s_per_s")
    if tps:
        ev.append(f"its tasks wait {tps:.2f} s per second for the next period")
    others = [label(w, n) for _, n in firing[1:4]]
    if others:
        ev.append("also throttled: " + ", ".join(others))
    title = f"{label(w, name)} cpu-bound by its CPU quota: throttled in {pct(share)} of periods{at}{where}"
    subject = _subject(w, name)
    s = strength(share, r.th["throttled"].value, 100)
    base = r.base + 8 if subject == "proc" else None  # the attached workload's own limit
    path = _dir(w, name, "cpu_dir", "cpu.stat")
    return [Hit(subject, title, tuple(ev), "high", s, base=base, fmt={"path": path})]


def memory_limit(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Memory at its cgroup limit with reclaim or stalls, or OOM kills in the window."""
    best: tuple[float, str, list[str], str] | None = None
    for name in names(w, "mem_used_pct"):
        p = f"cgroup.{name}."
        used_pct = w.median(p + "mem_used_pct")
        kills = _window_sum(w, p + "oom_kills")
        hits = _window_sum(w, p + "mem_limit_events") + _window_sum(w, p + "mem_high_events")
        stall = w.median(p + "psi_memory_some_pct")
        at_limit = r.th["at_limit"].ge(used_pct, sticky)
        pressed = hits > 0 or r.th["stall_mod"].ge(stall, sticky)
        if not ((at_limit and pressed) or r.th["oom"].ge(kills)):
            continue
        limit = w.last(p + "mem_limit_bytes") or w.last(p + "mem_high_bytes")
        lim = f" of its {fmt('mem.total_bytes', limit)} limit" if limit else " of its limit"
        ev = [f"{label(w, name)}: at {pct(used_pct)}{lim}"]
        avail = w.median("mem.available_bytes")
        if avail is not None:
            ev[0] += f"; the host has {fmt('mem.available_bytes', avail)} free"
        if hits:
            ev.append(f"{hits:.0f} times the limit forced reclaim in the window")
        if stall is not None:
            ev.append(f"cgroup memory pressure {pct(stall)} (time its tasks stalled on memory)")
        if kills:
            ev.append(f"{kills:.0f} OOM kills in the window")
        conf = "high" if kills or r.th["stall"].ge(stall) else "medium"
        # reclaim at the limit in most ticks is the strongest sign: the limit, not the reads it
        # causes (refaults from disk, a process seen in file reads), is the cause
        steady = _share_nonzero(w, p + "mem_limit_events") >= 0.5
        score = 1.0 if steady or kills else strength(used_pct or 0.0, r.th["at_limit"].value, 100)
        if best is None or score > best[0]:
            best = (score, name, ev, conf)
    if best is None:
        return []
    score, name, ev, conf = best
    title = ev[0].replace(": at ", " memory-bound at ", 1)
    subject = _subject(w, name)
    base = r.base + 12 if subject == "proc" else None  # above the attached process's own I/O stacks
    v2 = w.detail("cgroup.mode") == "v2"
    memfile = "memory.events" if v2 else "memory.stat"
    f = {"path": _dir(w, name, "memory_dir", memfile), "memfile": memfile}
    return [
        Hit(
            subject,
            title,
            tuple(ev),
            "high" if conf == "high" else "medium",
            min(1.0, score),
            base=base,
            fmt=f,
        )
    ]


IO_LIMIT = (
    "Raise or remove the cgroup's I/O limit on that device (docker --device-write-bps / "
    "--device-read-iops, systemd IOWriteBandwidthMax= / IOReadIOPSMax=, io.max)",
    "Do less I/O against the limit: cache what is re-read, compress, keep checkpoints and logs smaller",
    "Under an IOPS limit, merge small requests: bigger sequential reads and writes, fewer fsyncs",
    "Put scratch data on a device without a limit (tmpfs, a local disk the limit does not name)",
)
CAT_IO = "cat {path}/{iofile}"


def _io_limit_text(kind: str, limit: float | None) -> str:
    word = "read" if kind[0] == "r" else "write"
    if limit is None:
        return f"{word} limit"
    if kind.endswith("bps"):
        return f"{format_value(limit, Unit.BYTES_PER_S)} {word} limit"
    return f"{limit:.0f} IOPS {word} limit"


def _io_device(w: DiagnosisWindow, name: str, kind: str) -> str:
    info = _groups(w).get(name)
    devs = info.get("io_devices") if isinstance(info, dict) else None
    dev = devs.get(kind) if isinstance(devs, dict) else None
    return f" on {dev}" if isinstance(dev, str) and dev else ""


def io_limit(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Its I/O held at a cgroup I/O limit (io.max / blkio throttle): >= 90 % of it (median)."""
    firing: list[tuple[float, str, str]] = []
    for kind in IO_KINDS:
        for name in names(w, f"io_{kind}_limit_pct"):
            share = w.median(f"cgroup.{name}.io_{kind}_limit_pct")
            if r.th["io_limit"].ge(share, sticky):
                assert share is not None
                firing.append((share, name, kind))
    if not firing:
        return []
    firing.sort(reverse=True)
    share, name, kind = firing[0]
    p = f"cgroup.{name}."
    limit = w.last(p + f"io_{kind}_limit")
    where = _io_device(w, name, kind)
    of = f"{pct(share)} of its {_io_limit_text(kind, limit)}{where}"
    title = f"{label(w, name)} io-bound by its I/O limit: {of}"
    ev = [f"{label(w, name)}: its I/O runs at {of} (median over the window)"]
    stall = w.median(p + "psi_io_some_pct")
    if stall is not None:
        ev.append(f"cgroup I/O pressure {pct(stall)} (time its tasks waited on I/O)")
    others = [
        f"{label(w, n)} ({_io_limit_text(k, w.last(f'cgroup.{n}.io_{k}_limit'))})" for _, n, k in firing[1:4]
    ]
    if others:
        ev.append("also at an I/O limit: " + ", ".join(others))
    subject = _subject(w, name)
    base = r.base + 10 if subject == "proc" else None  # the limit, not the reads it slows, is the cause
    iofile = "io.max" if w.detail("cgroup.mode") == "v2" else V1_IO_FILES[kind]
    f = {"path": _dir(w, name, "io_dir", iofile), "iofile": iofile}
    s = strength(share, r.th["io_limit"].value, 100)
    return [Hit(subject, title, tuple(ev), "high", s, base=base, fmt=f)]
