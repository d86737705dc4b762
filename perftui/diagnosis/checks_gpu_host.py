"""Checks of the rules that read a GPU together with the host: kernel-launch-bound, starved by the CPU,
by storage or by host<->device copies, communication-bound over NVLink/PCIe.

One Hit per GPU that fires; the engine merges GPUs of one rule. A cause seen on the GPU and the host
together outranks either side alone (rules.py's bases).
"""

from __future__ import annotations

from perftui.diagnosis.checks_gpu import core_phrase, core_saturated, gpu_fmt, in_use, live_gpus
from perftui.diagnosis.model import Confidence
from perftui.diagnosis.ruledef import Hit, Rule, strength
from perftui.diagnosis.signals import (
    NVML_ONLY_NOTE,
    GpuView,
    busiest_disk,
    cpu_view,
    fmt,
    pct,
    psi,
    util_phrase,
)
from perftui.diagnosis.window import DiagnosisWindow


def launch_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[DCGM] kernels resident while SM active stays low, a host core saturated, PCIe quiet: the host
    thread cannot launch fast enough (tiny kernels; measured on an H100: 34 % busy, SM active 0.03 %)."""
    c = cpu_view(w)
    if not core_saturated(r, c, sticky):
        return []
    hits = []
    for g in live_gpus(w):
        if not (g.gpm and g.util is not None and r.th["kernels"].ge(g.util, sticky)):
            continue
        if not (r.th["sm_low"].lt(g.sm, sticky) and r.th["ratio"].lt((g.sm or 0.0) / g.util, sticky)):
            continue
        if r.th["pcie"].ge(g.pcie):
            continue  # copies explain it (pcie_copies)
        assert g.sm is not None
        ev = (
            f"SM active {pct(g.sm)} while {util_phrase(g)}; {core_phrase(r, c)}",
            "kernels are resident but keep few SMs busy: small kernels issued one by one from a busy "
            "host thread, so launch overhead sets the pace",
        )
        s = strength(r.th["sm_low"].value - g.sm, 0, r.th["sm_low"].value)
        hits.append(
            Hit(
                f"gpu.{g.index}",
                f"{g.name} kernel-launch-bound (CPU-bound host thread)",
                ev,
                "high",
                s,
                fmt=gpu_fmt(w, g),
            )
        )
    return hits


def _starved(r: Rule, g: GpuView, sticky: bool) -> bool:
    return in_use(r, g, sticky) and r.th["starved"].lt(g.util, sticky)


def _starved_phrase(g: GpuView) -> str:
    s = f"{util_phrase(g)} (no kernel running {pct(100 - (g.util or 0))} of the time)"
    if g.gpm and g.sm is not None:
        s += f", SM active {pct(g.sm)}"
    return s


def _starved_conf(g: GpuView) -> Confidence:
    # A low NVML utilisation is trustworthy (no kernel ran); host counters carry the cause.
    return "high" if g.gpm else "medium"


def starved_cpu(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[NSYS] GPU time utilisation < 50 % while the host's CPU is saturated: the GPU waits on the CPU."""
    c = cpu_view(w)
    all_busy = r.th["all_cores"].ge(c.util, sticky)
    if not (core_saturated(r, c, sticky) or all_busy):
        return []
    hits = []
    for g in live_gpus(w):
        if not _starved(r, g, sticky):
            continue
        cpu = f"CPU {pct(c.util)} across {c.cores} cores" if all_busy and c.cores else core_phrase(r, c)
        ev: tuple[str, ...] = (f"{_starved_phrase(g)}; {cpu}", "the GPU waits for the host to prepare work")
        loader = w.median("stack.share.dataloader")
        if r.th["share_mod"].ge(loader):
            ev += (
                f"the training loop waits for the DataLoader in {pct(loader)} of stack samples: "
                "its workers cannot produce batches fast enough",
            )
        s = strength(r.th["starved"].value - (g.util or 0), 0, r.th["starved"].value)
        hits.append(
            Hit(f"gpu.{g.index}", f"{g.name} starved by the CPU", ev, _starved_conf(g), s, fmt=gpu_fmt(w, g))
        )
    return hits


def starved_io(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[NSYS] GPU starved while the host stalls on storage ([TB] bands on the stall share)."""
    io = psi(w, "io", "some")
    iowait = w.median("cpu.iowait")
    disk = busiest_disk(w)
    io_high = r.th["stall"].ge(io, sticky) or (io is None and r.th["stall"].ge(iowait, sticky))
    disk_sat = (
        disk is not None
        and r.th["disk"].ge(disk.busy, sticky)
        and (r.th["stall_mod"].ge(io) or r.th["stall_mod"].ge(iowait))
    )
    if not (io_high or disk_sat):
        return []
    parts = []
    if io is not None:
        parts.append(f"I/O pressure {pct(io)} (time some task stalled on storage)")
    if iowait is not None:
        parts.append(f"iowait {pct(iowait)}")
    if disk is not None and disk.busy:
        parts.append(disk.phrase())
    hits = []
    for g in live_gpus(w):
        if not _starved(r, g, sticky):
            continue
        ev = (_starved_phrase(g), "; ".join(parts), "data loading from storage cannot keep the GPU fed")
        conf: Confidence = "high" if io is not None else "medium"
        s = strength(max(io or 0, iowait or 0), r.th["stall"].value, 100)
        f = gpu_fmt(w, g) | {"disk": disk.name if disk else "<device>"}
        hits.append(Hit(f"gpu.{g.index}", f"{g.name} starved by storage I/O", ev, conf, s, fmt=f))
    return hits


def interconnect(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[DCGM] busy by utilisation, SM active low, NVLink/PCIe busy, host not saturated: waiting on NCCL."""
    c = cpu_view(w)
    if core_saturated(r, c, False):
        return []  # launch-bound explains low SM active better
    hits = []
    for g in live_gpus(w):
        nvl, pcie = g.nvlink or 0.0, g.pcie or 0.0
        busy_link = r.th["nvlink"].ge(nvl, sticky) or r.th["pcie"].ge(pcie, sticky)
        if not (busy_link and r.th["busy"].ge(g.util, sticky)):
            continue
        link = (
            f"NVLink {fmt('gpu.0.nvlink_tx_bytes_per_s', nvl)}"
            if nvl >= pcie
            else f"PCIe {fmt('gpu.0.pcie_tx_bytes_per_s', pcie)}"
        )
        if g.gpm:
            if not r.th["sm_low"].lt(g.sm, sticky):
                continue
            assert g.sm is not None
            ev: tuple[str, ...] = (
                f"SM active {pct(g.sm)} while {util_phrase(g)}; {link} (tx + rx)",
                "kernels are resident but most SMs wait: typical of collectives (NCCL) waiting on peers",
            )
            conf: Confidence = "high"
            base = None
        else:
            ev = (f"{util_phrase(g)}; {link} (tx + rx)", NVML_ONLY_NOTE)
            conf, base = "low", 45.0
        s = strength(max(nvl / r.th["nvlink"].value, pcie / r.th["pcie"].value), 1, 4)
        hits.append(
            Hit(
                f"gpu.{g.index}",
                f"{g.name} communication-bound ({link.split()[0]})",
                ev,
                conf,
                s,
                base=base,
                fmt=gpu_fmt(w, g),
            )
        )
    return hits


def pcie_copies(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[NSYS] GPU starved while PCIe carries heavy host<->device copies (pageable-memory copies)."""
    c = cpu_view(w)
    hits = []
    for g in live_gpus(w):
        if not (_starved(r, g, sticky) and r.th["pcie"].ge(g.pcie, sticky)):
            continue
        assert g.pcie is not None
        rate = fmt("gpu.0.pcie_tx_bytes_per_s", g.pcie)
        ev: tuple[str, ...] = (
            f"{_starved_phrase(g)}; PCIe {rate} (tx + rx)",
            "host<->device copies take the time while no kernel runs",
        )
        if core_saturated(r, c, sticky):
            ev += (
                f"{core_phrase(r, c)}: copies from pageable (unpinned) memory are staged by a CPU "
                "memcpy, which caps them far below the link's speed",
            )
        conf: Confidence = "high" if g.gpm else "medium"  # GPM counts the bytes on the link itself
        s = strength(g.pcie / r.th["pcie"].value, 1, 3)
        title = f"{g.name} starved by host<->device copies (PCIe {rate})"
        hits.append(Hit(f"gpu.{g.index}", title, ev, conf, s, fmt=gpu_fmt(w, g)))
    return hits
