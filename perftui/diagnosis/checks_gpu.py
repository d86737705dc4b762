"""Checks of the rules that read a GPU alone: throttling, compute-, memory-, latency-bound, busy by NVML,
idle while holding memory; and the GPU helpers the GPU-with-host checks (checks_gpu_host.py) share.

One Hit per GPU that fires; the engine merges GPUs of one rule. Thresholds come from the rule (see
rules.py for their sources); `sticky` is True while the rule's verdict is the one shown, which relaxes
thresholds by their band (no flapping).
"""

from __future__ import annotations

from perftui.core import details
from perftui.core.gpu import THROTTLE_EVENTS, THROTTLE_MASK, clock_event_labels, decode_clock_events
from perftui.core.gpu_peaks import peak_evidence
from perftui.diagnosis.model import Verdict
from perftui.diagnosis.ruledef import Hit, Rule, strength
from perftui.diagnosis.signals import (
    NVML_ONLY_NOTE,
    CpuView,
    GpuView,
    busiest_core_phrase,
    cpu_view,
    fmt,
    gpu_views,
    pct,
    pid_of,
    util_phrase,
)
from perftui.diagnosis.window import DiagnosisWindow


def live_gpus(w: DiagnosisWindow) -> list[GpuView]:
    return [g for g in gpu_views(w) if g.tier != "lost" and g.util is not None]


def in_use(r: Rule, g: GpuView, sticky: bool) -> bool:
    """A process is on the GPU: it runs kernels at times, holds memory, or NVML lists it (a CUDA
    context alone is ~0.5 GiB on an H100 once the driver's reservation is left out)."""
    return not r.th["idle"].lt(g.util_p95, sticky) or r.th["holding"].ge(g.mem_used) or g.processes > 0


def core_saturated(r: Rule, c: CpuView, sticky: bool) -> bool:
    return r.th["core"].ge(c.core_max, sticky) or r.th["core"].ge(c.proc_max, sticky)


def core_phrase(r: Rule, c: CpuView) -> str:
    if c.proc_max is not None and (c.core_max is None or c.proc_max >= c.core_max):
        return f"the attached process's busiest thread at {pct(c.proc_max)} of a core"
    return busiest_core_phrase(c, r.th["core"].value)


def gpu_fmt(w: DiagnosisWindow, g: GpuView) -> dict[str, str]:
    return {"gpu": str(g.index), "pid": pid_of(w)}


def throttled(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    hits = []
    for g in live_gpus(w):
        if not (r.th["share"].ge(g.throttled_share, sticky) and r.th["busy"].ge(g.util, sticky)):
            continue
        assert g.throttled_share is not None
        p = f"gpu.{g.index}."
        names = details.clock_events(w, g.index)
        if not names:
            mask = w.last(p + "clock_event_reasons")
            names = decode_clock_events(int(mask) & THROTTLE_MASK) if mask is not None else []
        if power_cap_only(w, g.index, names):
            continue  # at its own power limit: the compute/memory verdict says so (power_cap_note)
        labels = [lbl for n, lbl in zip(names, clock_event_labels(names), strict=True) if n != "idle"]
        why = ", ".join(labels) if labels else "reason not reported"
        ev = [f"clocks lowered in {pct(100 * g.throttled_share)} of the window ({why})"]
        power, cap = w.median(p + "power_w"), w.median(p + "power_limit_w")
        if power is not None:
            ev.append(
                f"power {fmt(p + 'power_w', power)}" + (f" of a {fmt(p + 'power_w', cap)} cap" if cap else "")
            )
        clk, temp = w.median(p + "sm_clock_mhz"), w.median(p + "temp_c")
        max_clk = details.gpu_info(w, g.index).get("max_sm_clock_mhz")
        if clk is not None:
            ev.append(
                f"SM clock {fmt(p + 'sm_clock_mhz', clk)}" + (f" of {max_clk} MHz max" if max_clk else "")
            )
        if temp is not None:
            ev.append(f"temperature {fmt(p + 'temp_c', temp)}")
        ev.append(f"{util_phrase(g)}")
        title = f"{g.name} throttled: {why}"
        # Clock-event reasons are read directly from the driver: high confidence on any tier.
        s = strength(g.throttled_share, r.th["share"].value, 1.0)
        hits.append(Hit(f"gpu.{g.index}", title, tuple(ev), "high", s, fmt=gpu_fmt(w, g)))
    return hits


def power_cap_only(w: DiagnosisWindow, index: int, names: list[str] | None = None) -> bool:
    """Clocks are lowered by the power cap alone, and that cap is not below the board's default.

    Then the GPU runs at the power it was built for (dense math on an H100 does, at 1.4 of 1.98 GHz):
    a property of the work, not a fault to fix. A cap lowered by an administrator is a fault."""
    p = f"gpu.{index}."
    if names is None:
        names = details.clock_events(w, index)
    lowering = set(names) & THROTTLE_EVENTS
    if lowering != {"power_cap"}:
        return False
    default = details.gpu_info(w, index).get("default_power_limit_w")
    cap = w.median(p + "power_limit_w")
    return not (default is not None and cap is not None and cap < 0.98 * default)


def power_cap_note(w: DiagnosisWindow, g: GpuView) -> tuple[str, ...]:
    """Evidence for a busy GPU held at its power cap: clocks and watts, said as the normal state."""
    if not (g.throttled_share and g.throttled_share >= 0.5 and power_cap_only(w, g.index)):
        return ()
    p = f"gpu.{g.index}."
    power, cap, clk = w.median(p + "power_w"), w.median(p + "power_limit_w"), w.median(p + "sm_clock_mhz")
    max_clk = details.gpu_info(w, g.index).get("max_sm_clock_mhz")
    parts = [f"at its power cap ({fmt(p + 'power_w', power)} of {fmt(p + 'power_w', cap)})"]
    if clk is not None:
        parts.append(f"SM clock {fmt(p + 'sm_clock_mhz', clk)}" + (f" of {max_clk} MHz" if max_clk else ""))
    return (", ".join(parts) + ": normal for sustained heavy work; only a lower cap or more GPUs changes it",)


def memory_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[DCGM] DRAM active near 0.8 is the practical max; [NCU] 60 % of peak as the 'approaching' line."""
    hits = []
    for g in live_gpus(w):
        if not g.gpm or g.dram is None:
            continue
        pipes = f"; busiest compute pipe ({g.pipe_name}) {pct(g.pipes)}" if g.pipes is not None else ""
        sm = f"SM active {pct(g.sm)}"
        if r.th["dram"].ge(g.dram, sticky):
            ev = (
                f"DRAM bandwidth {pct(g.dram)} of peak (practical max ~80 %); {sm}{pipes}",
                *power_cap_note(w, g),
            )
            s = strength(g.dram, r.th["dram"].value, 100)
            hits.append(
                Hit(
                    f"gpu.{g.index}",
                    f"{g.name} memory-bound (DRAM bandwidth {pct(g.dram)} of peak)",
                    ev,
                    "high",
                    s,
                    fmt=gpu_fmt(w, g),
                )
            )
        elif (
            r.th["sol"].ge(g.dram, sticky)
            and (g.pipes is None or g.dram >= g.pipes)
            and r.th["sm_low"].ge(g.sm, sticky)
        ):
            ev = (f"DRAM bandwidth {pct(g.dram)} of peak, above the compute pipes; {sm}{pipes}",)
            s = strength(g.dram, r.th["sol"].value, r.th["dram"].value)
            hits.append(
                Hit(
                    f"gpu.{g.index}",
                    f"{g.name} leaning memory-bound (DRAM {pct(g.dram)} of peak)",
                    ev,
                    "medium",
                    s,
                    base=r.base - 12,
                    fmt=gpu_fmt(w, g),
                )
            )
    return hits


def compute_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[DCGM] SM active >= 0.8; [NCU] a compute pipe >= 60 % of peak; DRAM below its practical max."""
    hits = []
    for g in live_gpus(w):
        if not (g.gpm and r.th["sm_good"].ge(g.sm, sticky) and r.th["dram"].lt(g.dram or 0.0, sticky)):
            continue
        assert g.sm is not None
        occ = f", occupancy {pct(g.occupancy)}" if g.occupancy is not None else ""
        ev: tuple[str, ...]
        if g.pipes is None:
            ev = (
                f"SM active {pct(g.sm)}{occ}; DRAM bandwidth {pct(g.dram)} of peak",
                "pipe counters absent: cannot tell compute from latency limits",
            )
            hits.append(
                Hit(
                    f"gpu.{g.index}",
                    f"{g.name} compute-bound (SM active {pct(g.sm)})",
                    ev,
                    "medium",
                    strength(g.sm, 80, 100),
                    base=r.base - 8,
                    fmt=gpu_fmt(w, g),
                )
            )
        elif r.th["sol"].ge(g.pipes, sticky):
            ev = (
                f"SM active {pct(g.sm)}{occ}; {g.pipe_name} pipe {pct(g.pipes)}; "
                f"DRAM bandwidth {pct(g.dram)} of peak",
                *peak_evidence(w.mean, w.detail, g.index),  # how far from peak (core/gpu_peaks.py)
                *power_cap_note(w, g),
            )
            hits.append(
                Hit(
                    f"gpu.{g.index}",
                    f"{g.name} compute-bound ({g.pipe_name} pipe {pct(g.pipes)})",
                    ev,
                    "high",
                    strength(g.pipes, r.th["sol"].value, 100),
                    fmt=gpu_fmt(w, g),
                )
            )
    return hits


def latency_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[NCU] speed of light: compute and memory both < 60 % of peak while SMs are busy: latency-bound."""
    hits = []
    for g in live_gpus(w):
        if not (g.gpm and g.pipes is not None and r.th["sm_good"].ge(g.sm, sticky)):
            continue
        if not (r.th["sol"].lt(g.pipes, sticky) and r.th["sol"].lt(g.dram or 0.0, sticky)):
            continue
        occ = f", occupancy {pct(g.occupancy)}" if g.occupancy is not None else ""
        ev = (
            f"SM active {pct(g.sm)}{occ}, but busiest pipe ({g.pipe_name}) {pct(g.pipes)} and DRAM "
            f"{pct(g.dram)} of peak: both under 60 %",
            "the SMs are busy waiting (memory latency, dependencies, too few warps), not computing",
        )
        s = strength(r.th["sol"].value - max(g.pipes, g.dram or 0.0), 0, r.th["sol"].value)
        hits.append(
            Hit(
                f"gpu.{g.index}",
                f"{g.name} latency-bound kernels (compute side)",
                ev,
                "medium",
                s,
                fmt=gpu_fmt(w, g),
            )
        )
    return hits


def busy_nvml(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """NVML tier only: a busy GPU by utilisation; compute vs memory only from NVML's memory time share."""
    c = cpu_view(w)
    hits = []
    for g in live_gpus(w):
        if g.gpm or not r.th["busy"].ge(g.util, sticky):
            continue
        mem_side = r.th["dram"].ge(g.mem_util, r.verdict == "memory-bound" and sticky)
        verdict: Verdict = "memory-bound" if mem_side else "compute-bound"
        ev = [f"{util_phrase(g)}; memory busy {pct(g.mem_util)} of the time", NVML_ONLY_NOTE]
        if core_saturated(r, c, False):
            ev.append(f"{core_phrase(r, c)}: it may also be kernel-launch-bound")
        title = f"{g.name} busy ({verdict.split('-')[0]} side by NVML utilisation)"
        hits.append(
            Hit(
                f"gpu.{g.index}",
                title,
                tuple(ev),
                "low",
                strength(g.util or 0, 80, 100),
                verdict=verdict,
                fmt=gpu_fmt(w, g),
            )
        )
    return hits


def idle_holding(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    hits = []
    for g in live_gpus(w):
        if not (r.th["idle"].lt(g.util_p95, sticky) and r.th["holding"].ge(g.mem_used)):
            continue
        if g.gpm and not r.th["idle"].lt(g.sm_p95, sticky):
            continue
        assert g.mem_used is not None
        of = f" of {fmt('gpu.0.mem_total_bytes', g.mem_total)}" if g.mem_total else ""
        ev = (
            f"{util_phrase(g)} (P95 {pct(g.util_p95)}) while {fmt('gpu.0.mem_used_bytes', g.mem_used)}{of} "
            "is allocated",
            "a process holds GPU memory but runs no kernels (finished, hung, or waiting)",
        )
        hits.append(
            Hit(
                f"gpu.{g.index}",
                f"{g.name} idle while holding {fmt('gpu.0.mem_used_bytes', g.mem_used)}",
                ev,
                "high",
                0.0,
                fmt=gpu_fmt(w, g),
            )
        )
    return hits
