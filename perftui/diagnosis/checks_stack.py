"""Checks driven by an attached process's Python stacks (`stack.share.<category>`, in % of samples).

Each is guarded on presence: without an attached process the keys are absent and nothing fires.
Shares are window means. Confidence is high with enough samples, medium otherwise. The count
quoted is the last `stack.samples` (the samples in the stack sampler's window behind the shares),
worded as the stacks pane words it (`perftui.core.stack_samples`): both quote the same number.
"""

from __future__ import annotations

from perftui.core.stack_samples import ENOUGH_SAMPLES, samples_phrase
from perftui.diagnosis.model import Confidence
from perftui.diagnosis.ruledef import Check, Hit, Rule, strength
from perftui.diagnosis.signals import gpu_views, pct, pid_of
from perftui.diagnosis.window import DiagnosisWindow


def _conf(w: DiagnosisWindow) -> Confidence:
    samples = w.last("stack.samples")
    return "high" if samples is not None and samples >= ENOUGH_SAMPLES else "medium"


def _samples_note(w: DiagnosisWindow) -> str:
    samples = w.last("stack.samples")
    return f" ({samples_phrase(samples)})" if samples is not None else ""


def share_rule(category: str, what: str, meaning: str) -> Check:
    """[TB] bands: share >= 20 % highly bound, 5-20 % moderately (a secondary finding)."""

    def check(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
        share = w.mean(f"stack.share.{category}")
        if share is None:
            return []
        ev = (f"{what} in {pct(share)} of the attached process's stack samples{_samples_note(w)}", meaning)
        f = {"pid": pid_of(w), "gpu": "0", "disk": "<device>"}
        if r.th["share"].ge(share, sticky):
            s = strength(share, r.th["share"].value, 100)
            return [Hit("proc", f"{what} {pct(share)} of the time", ev, _conf(w), s, fmt=f)]
        if r.th["share_mod"].ge(share, sticky):
            s = strength(share, r.th["share_mod"].value, r.th["share"].value)
            return [
                Hit(
                    "proc",
                    f"{what} {pct(share)} of the time (moderate)",
                    ev,
                    "medium",
                    s,
                    base=r.base - 40,
                    fmt=f,
                )
            ]
        return []

    return check


def cuda_sync(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """[HTA] kernel wait vs host wait: a host blocked in CUDA sync waits on the GPU (the GPU side limits)."""
    share = w.mean("stack.share.cuda_sync")
    if share is None or not r.th["share"].ge(share, sticky):
        return []
    ev = (
        f"waiting in CUDA synchronisation in {pct(share)} of stack samples{_samples_note(w)}",
        "the host waits for GPU work to finish: the GPU side limits (its counters say compute or memory); "
        "frequent .item()/.cpu() syncs also stall the launch queue",
    )
    return [
        Hit(
            "proc",
            f"host waits on the GPU {pct(share)} of the time",
            ev,
            "low",
            strength(share, r.th["share"].value, 100),
            fmt={"pid": pid_of(w), "gpu": "0"},
        )
    ]


def python_compute(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """The process computes in Python at a core's limit while no GPU is busy: CPU-bound in its own code."""
    share, proc_max = w.mean("stack.share.compute"), w.median("proc.cpu_max_thread")
    if not (r.th["share"].ge(share, sticky) and r.th["core"].ge(proc_max, sticky)):
        return []
    if any(not r.th["starved"].lt(g.util, sticky) for g in gpu_views(w) if g.util is not None):
        return []  # a busy GPU: the GPU rules speak
    ev = (
        f"running Python code in {pct(share)} of stack samples{_samples_note(w)}; busiest process at "
        f"{pct(proc_max)} of a core",
    )
    return [
        Hit(
            "proc",
            "attached process CPU-bound in its own code",
            ev,
            _conf(w),
            strength(share or 0.0, r.th["share"].value, 100),
            fmt={"pid": pid_of(w), "gpu": "0"},
        )
    ]


def proc_idle(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    share, cpu = w.mean("stack.share.idle"), w.median("proc.cpu")
    if not (r.th["share"].ge(share, sticky) and r.th["cpu_idle"].lt(cpu, sticky)):
        return []
    ev = (
        f"idle (sleeping or waiting) in {pct(share)} of stack samples{_samples_note(w)}; "
        f"process CPU {pct(cpu)}",
    )
    return [Hit("proc", "attached process idle", ev, _conf(w), 0.0, fmt={"pid": pid_of(w), "gpu": "0"})]
