"""The pure engine: a window in, ranked findings out. No I/O, no clock, deterministic.

`diagnose(window, held)` runs every rule of the table; `held` is the verdict currently shown
(the tracker passes it): that verdict's thresholds relax by their band and its findings rank
HELD_BONUS higher, so a signal that sits on a threshold, or between two verdicts, does not flap.
Findings of one rule on several GPUs merge into one; findings that reach the same verdict merge
their evidence into the highest-ranked one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from perftui.diagnosis import advice as A
from perftui.diagnosis.fit import fit
from perftui.diagnosis.model import Finding, Verdict
from perftui.diagnosis.ruledef import Hit, Rule
from perftui.diagnosis.rules import RULES, SIGNALS
from perftui.diagnosis.signals import cpu_view, gpu_views, pct, pid_of, psi
from perftui.diagnosis.window import DiagnosisWindow
from perftui.store.metric_store import MetricStore

INSUFFICIENT = "insufficient-data"
NO_BOTTLENECK = "none"
MAX_EVIDENCE = 6
HELD_BONUS = 5.0  # ranking hysteresis: a challenger must beat the shown verdict by this much


def window_from_store(store: MetricStore, seconds: float, now: float | None = None) -> DiagnosisWindow:
    """The store's last `seconds` (ending at `now`, else its newest timestamp), only the keys some rule
    reads (the table's SIGNALS)."""
    return DiagnosisWindow.from_store(store, seconds, SIGNALS, now=now)


def has_data(w: DiagnosisWindow) -> bool:
    """Enough to judge: host CPU, some GPU's utilisation, or stack shares."""
    return (
        w.has("cpu.util") or any(w.has(f"gpu.{i}.util") for i in w.gpu_indices()) or w.has_any("stack.share.")
    )


def _gpu_list(subjects: list[str]) -> str:
    return ", ".join(s.split(".", 1)[1] for s in subjects)


def _merge_hits(rule: Rule, hits: list[Hit], w: DiagnosisWindow) -> list[tuple[float, Finding]]:
    """One finding per (verdict, base, confidence) group: several GPUs firing one rule read as one."""
    groups: dict[tuple[Verdict, float, str], list[Hit]] = defaultdict(list)
    for h in hits:
        groups[(h.verdict or rule.verdict, h.base if h.base is not None else rule.base, h.confidence)].append(
            h
        )
    out = []
    for (verdict, base, _), group in groups.items():
        group.sort(key=lambda h: -h.strength)
        top = group[0]
        title, evidence, subject = top.title, list(top.evidence), top.subject
        if len(group) > 1:
            subjects = [h.subject for h in group]
            gpu_ids = _gpu_list(sorted(subjects, key=lambda s: int(s.split(".")[1])))
            title = title.replace(f"GPU {top.subject.split('.')[1]}", f"GPUs {gpu_ids}", 1)
            evidence[0] = f"GPU {top.subject.split('.')[1]}: {evidence[0]}"
            others = sorted(subjects[1:], key=lambda s: int(s.split(".")[1]))
            evidence.append(f"same on GPU {_gpu_list(others)}")
            subject = ",".join(subjects)
        fitted = fit(rule, top, w)  # culprits, and advice that fits the box and them
        finding = Finding(
            verdict=verdict,
            title=title,
            confidence=top.confidence,
            score=round(base + 10.0 * top.strength, 3),
            evidence=(*evidence, *fitted.extra_evidence),
            suggestions=fitted.suggestions,
            next_step=fitted.next_step,
            rule=rule.id,
            subject=subject,
            culprits=fitted.culprits,
        )
        out.append((finding.score, finding))
    return out


def _merge_same_verdict(ranked: list[Finding]) -> list[Finding]:
    """Lower-ranked findings with the primary's verdict lend it their evidence instead of repeating it.
    Host memory pressure stays apart from GPU memory-bound: a different resource."""
    kept: dict[str, Finding] = {}
    order: list[str] = []
    for f in ranked:
        key = f.verdict + ("/host" if f.rule == "host.memory_pressure" else "")
        first = kept.get(key)
        if first is None:
            kept[key] = f
            order.append(key)
            continue
        extra = tuple(e for e in f.evidence[:1] if e not in first.evidence)  # its numbers line
        room = MAX_EVIDENCE - len(first.evidence)
        if room > 0 and extra:
            kept[key] = replace(first, evidence=first.evidence + extra[:room])
    return [kept[k] for k in order]


def _summary(w: DiagnosisWindow) -> tuple[str, ...]:
    ev = []
    c = cpu_view(w)
    if c.util is not None:
        ev.append(f"CPU {pct(c.util)}, busiest core {pct(c.core_max)}")
    io = psi(w, "io", "some")
    if io is not None:
        ev.append(f"I/O pressure {pct(io)}, memory pressure {pct(psi(w, 'memory', 'some'))}")
    for g in gpu_views(w)[:4]:
        sm = f", SM active {pct(g.sm)}" if g.sm is not None else ""
        ev.append(f"{g.name}: utilisation {pct(g.util)}{sm}")
    return tuple(ev)


def _none_finding(w: DiagnosisWindow) -> Finding:
    gpus = bool(w.gpu_indices())
    return Finding(
        verdict="none",
        title="No clear bottleneck: nothing is saturated",
        confidence="medium",
        score=0.0,
        evidence=(*_summary(w), "no rule's threshold is crossed"),
        suggestions=A.NONE,
        next_step=A.NSYS if gpus else A.PYSPY.format(pid=pid_of(w)),
        rule=NO_BOTTLENECK,
        subject="host",
    )


def insufficient(w: DiagnosisWindow) -> Finding:
    return Finding(
        verdict="none",
        title="Not enough samples yet",
        confidence="low",
        score=0.0,
        evidence=(f"no CPU, GPU or stack samples in the last {w.seconds:g} s",),
        suggestions=(),
        next_step=A.DIAGNOSE_AGAIN,
        rule=INSUFFICIENT,
        subject="",
    )


def diagnose(window: DiagnosisWindow, held: str | None = None) -> list[Finding]:
    """Ranked findings, primary first; never empty ("none" when nothing fires)."""
    if not has_data(window):
        return [insufficient(window)]
    scored: list[tuple[float, int, Finding]] = []
    for order, rule in enumerate(RULES):
        sticky = held is not None and rule.verdict == held
        hits = rule.check(rule, window, sticky)
        for score, finding in _merge_hits(rule, hits, window):
            if finding.verdict == held:
                score += HELD_BONUS
            scored.append((score, order, finding))
    if not scored:
        return [_none_finding(window)]
    scored.sort(key=lambda t: (-t[0], t[1]))
    return _merge_same_verdict([f for _, _, f in scored])
