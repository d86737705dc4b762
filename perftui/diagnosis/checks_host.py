"""Checks of the host rules: CPU, storage I/O, host memory pressure, network, idle.

Host counters (per-core times, PSI, diskstats, vmstat, /proc/net) are direct measurements:
findings built on them are high confidence unless a fallback signal is used, which is said.
"""

from __future__ import annotations

from typing import Any

from perftui.diagnosis import culprits as C
from perftui.diagnosis.model import Confidence, Culprit
from perftui.diagnosis.ruledef import Hit, Rule, strength
from perftui.diagnosis.signals import busiest_disk, cpu_view, fmt, gpu_views, pct, pid_of, psi
from perftui.diagnosis.window import DiagnosisWindow


def _f(w: DiagnosisWindow, **extra: str) -> dict[str, str]:
    return {"pid": pid_of(w), "gpu": "0", **extra}


def _named(ev: list[str], culprits: tuple[Culprit, ...]) -> tuple[Culprit, ...]:
    """Put the culprit line second (right after the numbers), so every rendering shows it."""
    if culprits:
        ev.insert(1, C.line(culprits))
    return culprits


def cpu_saturated(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Every core busy: nothing more can run."""
    c = cpu_view(w)
    if not r.th["all_cores"].ge(c.util, sticky):
        return []
    assert c.util is not None
    cores = f" across {c.cores} cores" if c.cores else ""
    ev = [f"CPU {pct(c.util)}{cores} (busiest core {pct(c.core_max)})"]
    if c.psi_some is not None:
        ev.append(f"CPU pressure {pct(c.psi_some)} (time some runnable task waited for a core)")
    if c.steal is not None and c.steal >= 5:
        ev.append(f"steal {pct(c.steal)}: the hypervisor takes cores away")
    if c.proc_cpu is not None:
        ev.append(f"attached process tree at {pct(c.proc_cpu)} (100 % = one core)")
    who = _named(ev, C.cpu_culprits(w))
    # Ranked by the share of time tasks waited for a core (PSI), like I/O by its stall share: when
    # both saturate, the resource tasks wait on most comes first.
    s = c.psi_some / 100 if c.psi_some is not None else strength(c.util, r.th["all_cores"].value, 100)
    title = f"CPU saturated: {pct(c.util)} of all cores"
    return [Hit("host", title, tuple(ev), "high", s, fmt=_f(w), culprits=who)]


def core_saturated(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """One core (or the attached process's busiest process) at its limit while others have room."""
    c = cpu_view(w)
    if r.th["all_cores"].ge(c.util, False) or (c.cores or 0) == 1:
        return []  # cpu_saturated says it
    if r.th["core"].ge(c.proc_max, sticky):
        assert c.proc_max is not None
        if r.th["spin"].ge(w.median("stack.share.cuda_sync")):
            return []  # its thread spins in a CUDA synchronize: it waits on the GPU, it does not work
        proc_ev = (
            f"busiest process of the attached tree at {pct(c.proc_max)} of a core while CPU is "
            f"{pct(c.util)} overall",
            "more cores will not help a single thread: parallelise or vectorise",
        )
        return [
            Hit(
                "proc",
                "attached process limited by one core",
                proc_ev,
                "high",
                strength(c.proc_max, r.th["core"].value, 100),
                base=r.base + 15,
                fmt=_f(w),
            )
        ]
    if not r.th["core"].ge(c.core_max, sticky):
        return []
    assert c.core_max is not None
    ev = [
        f"busiest core at {pct(c.core_max)} while CPU is {pct(c.util)} overall",
        "a single-threaded stage (if that thread is your workload's) caps throughput",
    ]
    who = _named(ev, C.cpu_culprits(w)[:2])
    return [
        Hit(
            "host",
            f"one core saturated ({pct(c.core_max)})",
            tuple(ev),
            "medium",
            strength(c.core_max, r.th["core"].value, 100),
            fmt=_f(w),
            culprits=who,
        )
    ]


def io_pressure(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[TB] bands on the share of time stalled on storage; [IOSTAT] a saturated device."""
    io, full = psi(w, "io", "some"), psi(w, "io", "full")
    iowait = w.median("cpu.iowait")
    disk = busiest_disk(w)
    stall = io if io is not None else iowait  # PSI when the kernel has it; iowait otherwise
    if stall is None:
        return []
    disk_sat = disk is not None and r.th["disk"].ge(disk.busy, sticky) and r.th["stall_mod"].ge(stall)
    ev = []
    if io is not None:
        ev.append(
            f"I/O pressure {pct(io)} (time some task stalled on storage)"
            + (f", all tasks {pct(full)}" if full is not None and full >= 1 else "")
        )
    if iowait is not None:
        ev.append(f"iowait {pct(iowait)} of all CPU time")
    if disk is not None and disk.busy:
        ev.append(disk.phrase())
    who = _named(ev, C.disk_culprits(w)) if ev else ()
    conf: Confidence = "high" if io is not None else "medium"
    f = _f(w, disk=disk.name if disk else "<device>")
    if r.th["stall"].ge(stall, sticky) or disk_sat:
        s = min(1.0, stall / 100)  # the stall share itself, comparable with CPU pressure
        title = f"storage I/O-bound ({'I/O pressure' if io is not None else 'iowait'} {pct(stall)})"
        return [Hit("host", title, tuple(ev), conf, s, fmt=f, culprits=who)]
    if r.th["stall_mod"].ge(stall, sticky):
        s = strength(stall, r.th["stall_mod"].value, r.th["stall"].value)
        return [
            Hit(
                "host",
                f"moderate storage stalls ({pct(stall)})",
                tuple(ev),
                "medium",
                s,
                base=r.base - 23,
                fmt=f,
                culprits=who,
            )
        ]
    return []


def memory_pressure(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Host memory pressure: PSI memory stalls ([TB] bands) or sustained swapping."""
    some, full = psi(w, "memory", "some"), psi(w, "memory", "full")
    swap = sum(
        v for k in ("mem.swap_in_bytes_per_s", "mem.swap_out_bytes_per_s") if (v := w.median(k)) is not None
    )
    swapping = r.th["swap"].ge(swap, sticky)
    ev = []
    if some is not None:
        ev.append(
            f"memory pressure {pct(some)} (time some task stalled on memory)"
            + (f", all tasks {pct(full)}" if full is not None and full >= 1 else "")
        )
    if swap:
        ev.append(f"swapping {fmt('mem.swap_in_bytes_per_s', swap)} (in + out)")
    faults = w.median("mem.major_faults_per_s")
    if faults:
        ev.append(f"major page faults {fmt('mem.major_faults_per_s', faults)}")
    used = w.median("mem.used_pct")
    if used is not None:
        ev.append(f"memory in use {pct(used)}")
    who = _named(ev, C.memory_culprits(w)) if ev else ()
    if r.th["stall"].ge(some, sticky) or swapping:
        s = strength(max(some or 0.0, r.th["stall"].value if swapping else 0.0), r.th["stall"].value, 100)
        what = "swapping" if swapping else f"stalled {pct(some)}"
        title = f"host memory pressure ({what})"
        return [Hit("host", title, tuple(ev), "high", s, fmt=_f(w), culprits=who)]
    if r.th["stall_mod"].ge(some, sticky):
        return [
            Hit(
                "host",
                f"moderate host memory pressure ({pct(some)})",
                tuple(ev),
                "medium",
                strength(some or 0.0, r.th["stall_mod"].value, r.th["stall"].value),
                base=r.base - 30,
                fmt=_f(w),
                culprits=who,
            )
        ]
    return []


def _nic_speeds(w: DiagnosisWindow) -> dict[str, float]:
    nics: Any = w.detail("net.nics")
    out: dict[str, float] = {}
    if isinstance(nics, list):
        for n in nics:
            if isinstance(n, dict) and isinstance(n.get("speed_bytes_per_s"), (int, float)) and n.get("name"):
                out[str(n["name"])] = float(n["speed_bytes_per_s"])
    return out


# /proc counts network bytes per interface and TCP segments per host, never per process, and the
# process table holds no socket counts: a network finding names no culprit, and says so.
NO_NET_CULPRITS = "no process named: /proc counts network traffic per NIC, not per process (see `ss -tnp`)"


def network(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """A NIC near its link speed, or TCP losing segments ([MATHIS]: loss cuts throughput)."""
    hits = []
    for name, speed in _nic_speeds(w).items():
        p = f"net.{name}."
        rx, tx = w.median(p + "rx_bytes_per_s") or 0.0, w.median(p + "tx_bytes_per_s") or 0.0
        peak = max(rx, tx)
        if speed > 0 and r.th["link"].ge(100 * peak / speed, sticky):
            way = "receive" if rx >= tx else "send"
            rate, link = fmt(p + "rx_bytes_per_s", peak), fmt(p + "rx_bytes_per_s", speed)
            ev: tuple[str, ...] = (
                f"{name} {way}s {rate} of a {link} link ({pct(100 * peak / speed)})",
                NO_NET_CULPRITS,
            )
            hits.append(
                Hit(
                    f"net.{name}",
                    f"network-bound: {name} at {pct(100 * peak / speed)} of link speed",
                    ev,
                    "high",
                    strength(100 * peak / speed, r.th["link"].value, 100),
                    fmt=_f(w, nic=name),
                )
            )
    retrans, out = w.median("net.tcp.retrans_per_s"), w.median("net.tcp.out_segs_per_s")
    if retrans is not None and out is not None and r.th["segs"].ge(out):
        ratio = 100 * retrans / out
        if r.th["retrans"].ge(ratio, sticky):
            ev = (
                f"TCP retransmits {pct(ratio)} of segments sent ({fmt('net.tcp.retrans_per_s', retrans)} of "
                f"{fmt('net.tcp.out_segs_per_s', out)})",
                "loss or congestion on the path throttles TCP",
                NO_NET_CULPRITS,
            )
            hits.append(
                Hit(
                    "net.tcp",
                    f"network-bound: TCP retransmitting {pct(ratio)}",
                    ev,
                    "medium",
                    strength(ratio, r.th["retrans"].value, 10),
                    base=r.base - 5,
                    fmt=_f(w, nic="<nic>"),
                )
            )
    return hits


def host_idle(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Nothing running: CPU low, no storage stalls, every GPU idle."""
    c = cpu_view(w)
    if not r.th["cpu_idle"].lt(c.util, sticky):
        return []
    io = psi(w, "io", "some")
    stall = io if io is not None else c.iowait
    if stall is not None and not r.th["stall_mod"].lt(stall, sticky):
        return []
    gpus = gpu_views(w)
    if any(not r.th["gpu_idle"].lt(g.util_p95, sticky) for g in gpus if g.util is not None):
        return []
    cores = f" across {c.cores} cores" if c.cores else ""
    busiest = f", busiest core {pct(c.core_max)}" if c.core_max is not None else ""
    ev = [f"CPU {pct(c.util)}{cores}{busiest}"]
    if stall is not None:
        ev.append(f"{'I/O pressure' if io is not None else 'iowait'} {pct(stall)}")
    if gpus:
        ev.append(f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} idle")
    return [Hit("host", "idle: nothing is running", tuple(ev), "high", 0.0, fmt=_f(w))]
