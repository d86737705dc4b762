"""The pure engine: a window in, ranked findings out. No I/O, no clock, deterministic.

`diagnose(window, held)` runs every rule of the table; `held` is the verdict currently shown
(the tracker passes it): that verdict's thresholds relax by their band and its findings rank
HELD_BONUS higher, so a signal that sits on a threshold, or in a near tie between two verdicts,
does not flap. The bonus is a tie band, not a lock: a challenger that clearly outranks the shown
verdict (by more than HELD_BONUS) wins, so a long-running dashboard and a fresh `perftui diagnose`
on the same window give the same answer; only within the band can they differ, and the tracker then
lists the engine's own pick as `pending` (every face shows it).
Findings of one rule on several GPUs merge into one; findings that reach the same verdict merge
their evidence into the highest-ranked one. The first evidence line of every finding says the
window it was measured over ("... over the last 10 s"), so it is never read against a panel's
instantaneous value. `co_bottleneck` picks the second finding worth naming beside the primary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
# Ranking tie band: a challenger must beat the shown verdict by this much. 5.0 used to lock a
# "one core saturated" verdict (45 + 5 + 9) against storage stalls of 25 % (56 + 2.5) for as long as
# the dashboard ran, while `diagnose` said io-bound (issue 24). 2.0 = a fifth of a threshold span.
HELD_BONUS = 2.0
# [PT] A co-bottleneck: another resource's finding within this many points of the primary's score
# (a rule-tier apart at most: "io-bound; also one core saturated"), not "idle"/"none", not low.
CO_MARGIN = 15.0


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


def window_phrase(w: DiagnosisWindow) -> str:
    """How much time the window's figures cover: "over the last 10 s" (less while data is young)."""
    span = w.span_s()
    if span is None:
        return f"over the last {w.seconds:g} s"
    if span <= 0:
        return "from one sample"
    shown = w.seconds if span >= 0.9 * w.seconds else max(1.0, float(round(span)))
    return f"over the last {shown:g} s"


def _with_window(findings: list[Finding], w: DiagnosisWindow) -> list[Finding]:
    """The numbers line (the first evidence line) of each finding says the window it covers."""
    phrase = window_phrase(w)
    out = []
    for f in findings:
        if f.evidence and phrase not in f.evidence[0]:
            f = replace(f, evidence=(f"{f.evidence[0]} {phrase}", *f.evidence[1:]))
        out.append(f)
    return out


def co_bottleneck(findings: Sequence[Finding]) -> Finding | None:
    """The strongest finding on another resource than the primary, when it is close enough to matter.

    "Another resource": a different verdict, or host memory pressure beside GPU memory-bound. "Close
    enough": within CO_MARGIN of the primary's score, medium or high confidence, and a bottleneck at
    all (not idle, not none). With the tracker holding a verdict, `findings[0]` is the held one."""
    if len(findings) < 2:
        return None
    first = findings[0]
    if first.rule == INSUFFICIENT:
        return None
    for f in findings[1:]:
        if f.verdict in ("none", "idle") or f.confidence == "low":
            continue
        if f.verdict == first.verdict and (f.rule == "host.memory_pressure") == (
            first.rule == "host.memory_pressure"
        ):
            continue
        return f if f.score >= first.score - CO_MARGIN else None
    return None


def diagnose(window: DiagnosisWindow, held: str | None = None) -> list[Finding]:
    """Ranked findings, primary first; never empty ("none" when nothing fires)."""
    if not has_data(window):
        return [insufficient(window)]
    return _with_window(_ranked(window, held), window)


def _ranked(window: DiagnosisWindow, held: str | None) -> list[Finding]:
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
