"""Plain-text and JSON renderings of a Diagnosis, shared by the CLI, the report and the pane."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from perftui.diagnosis.culprits import line
from perftui.diagnosis.engine import co_bottleneck
from perftui.diagnosis.model import Culprit, Diagnosis, Finding, TimelineEntry


def culprit_json(c: Culprit) -> dict[str, Any]:
    """One `culprits` entry: pid, name, share (%), what it is a share of, and the line to show."""
    return {
        "pid": c.pid,
        "name": c.name,
        "share": c.share,
        "resource": c.resource,
        "value": c.value,
        "python": c.python,
        "uses_gpu": c.uses_gpu,
        "container": c.container,
        "growth": c.growth,
        "text": line((c,)),
    }


def headline(d: Diagnosis) -> str:
    """One line: 'cpu-bound (high confidence): CPU saturated: 99 % of all cores'."""
    p = d.primary
    title = f": {p.title}" if p is not None and p.title else ""
    return f"{d.verdict} ({d.confidence} confidence){title}"


def also_line(d: Diagnosis) -> str:
    """The co-bottleneck, when one is strong: "also cpu-bound: one core saturated (99 %)"; else ""."""
    co = co_bottleneck(d.findings)
    return f"also {co.verdict}: {co.title} ({co.confidence})" if co is not None else ""


def held_against(d: Diagnosis) -> str:
    """While the tracker holds the shown verdict against a higher-ranked challenger (hysteresis),
    the challenger's verdict; else "". The tracker keeps the held finding first, the rest by score."""
    if len(d.findings) < 2 or d.primary is None:
        return ""
    top = max(d.findings[1:], key=lambda f: f.score)
    return top.verdict if top.verdict != d.verdict and top.score > d.primary.score else ""


def clock(ts: float) -> str:
    """A store timestamp as local HH:MM:SS."""
    return time.strftime("%H:%M:%S", time.localtime(ts))


def finding_lines(f: Finding, *, evidence: int | None = None, suggestions: int | None = None) -> list[str]:
    lines = [f"{f.verdict} ({f.confidence}): {f.title}"]
    lines += [f"  - {e}" for e in f.evidence[:evidence]]
    if suggestions != 0 and f.suggestions:
        lines.append("  try:")
        lines += [f"    * {s}" for s in f.suggestions[:suggestions]]
    if f.next_step:
        lines.append(f"  next: {f.next_step}")
    return lines


def timeline_lines(entries: Sequence[TimelineEntry]) -> list[str]:
    return [f"{clock(e.ts)}  {e.verdict} ({e.confidence}): {e.headline}" for e in entries]


def render_lines(
    d: Diagnosis,
    *,
    evidence: int = 4,
    suggestions: int = 3,
    others: bool = True,
    timeline: Sequence[TimelineEntry] = (),
) -> list[str]:
    """Verdict line, evidence, suggestions, next step; then other findings and the timeline."""
    lines = [f"Verdict: {headline(d)}"]
    p = d.primary
    if p is None:
        return lines
    also = also_line(d)
    if also:
        lines.append(f"Co-bottleneck: {also.removeprefix('also ')}")
    held = held_against(d)
    if held:
        lines.append(f"Held: the engine now ranks {held} first; the verdict changes once that holds")
    if d.since is not None:
        lines.append(f"Since: {clock(d.since)}")
    if p.evidence:
        lines.append("Evidence:")
        lines += [f"  - {e}" for e in p.evidence[:evidence]]
    if p.suggestions:
        lines.append("Suggestions:")
        lines += [f"  - {s}" for s in p.suggestions[:suggestions]]
    if p.next_step:
        lines.append(f"Next step: {p.next_step}")
    rest = d.findings[1:]
    if others and rest:
        lines.append("Other findings:")
        lines += [f"  - {f.verdict} ({f.confidence}): {f.title}" for f in rest]
    if len(timeline) > 1:
        lines.append("Timeline:")
        lines += [f"  {line}" for line in timeline_lines(timeline)]
    return lines


def render_text(d: Diagnosis, timeline: Sequence[TimelineEntry] = ()) -> str:
    return "\n".join(render_lines(d, timeline=timeline))


def diagnosis_json(d: Diagnosis, timeline: Sequence[TimelineEntry] = ()) -> dict[str, Any]:
    """The `perftui diagnose --json` object: plain JSON types only."""
    p = d.primary
    co = co_bottleneck(d.findings)
    return {
        "verdict": d.verdict,
        "confidence": d.confidence,
        "evidence": list(p.evidence) if p else [],
        "suggestions": list(p.suggestions) if p else [],
        "next_step": p.next_step if p else "",
        "also": co.as_dict() if co is not None else None,
        "culprits": [culprit_json(c) for c in p.culprits] if p else [],
        "findings": [{**f.as_dict(), "culprits": [culprit_json(c) for c in f.culprits]} for f in d.findings],
        "timeline": [e.as_dict() for e in timeline],
        "since": d.since,
    }


def advice_detail(d: Diagnosis) -> dict[str, Any]:
    """The `diagnosis.current` detail recorders keep: the advice without the per-tick numbers
    (those are in the timeline), so it changes only when the advice does."""
    return {
        "verdict": d.verdict,
        "confidence": d.confidence,
        "findings": [
            {
                "verdict": f.verdict,
                "rule": f.rule,
                "title": f.rule or f.verdict,
                "suggestions": list(f.suggestions),
                "next_step": f.next_step,
                "culprits": [culprit_json(c) for c in f.culprits],
            }
            for f in d.findings
        ],
    }
