"""Rerun the diagnosis on recorded data, exactly as live: the same tracker fed tick by tick."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from perftui.core.sanitize import clean
from perftui.diagnosis.culprits import line
from perftui.diagnosis.model import Diagnosis, Finding, TimelineEntry
from perftui.report.model import Advice
from perftui.store.metric_store import MetricStore
from perftui.store.reader import Recording, Tick, iter_ticks, replay_into
from perftui.store.schema import VerdictLike

# The live faces' window and cadence (perftui.diagnosis.tracker: one setting for all); tests check they match.
# The tracker is imported only in recompute: the report builds without the engine (None then).
WINDOW_S = 10.0
STEP_S = 1.0
MAX_EVALS = 90  # a report's default budget: one engine pass costs ~15 ms on a small VM


@dataclass(frozen=True)
class Recomputed:
    timeline: list[TimelineEntry]  # the entry in force at the window start, then those inside
    advice: tuple[Advice, ...]
    step_s: float  # how often the engine ran (the live app: every STEP_S)
    final: Diagnosis | None = None  # the tracker's verdict at the window's end (what the live pane showed)


def auto_step(start: float, end: float, max_evals: int = MAX_EVALS) -> float:
    """The live cadence when the window is short, coarser so a long window costs <= max_evals passes."""
    return float(max(STEP_S, math.ceil((end - start) / max_evals)))


def _capacity(rec: Recording, window_s: float) -> int:
    """Enough points per key for the diagnosis window at the recording's densest rate."""
    start, end = rec.start, rec.end
    if start is None or end is None or end <= start:
        return 64
    densest = max((ts.size for ts, _ in rec.series.values()), default=1)
    return max(64, int(2 * window_s * densest / (end - start)) + 16)


def recompute(
    rec: Recording, start: float, end: float, window_s: float = WINDOW_S, step_s: float | None = None
) -> Recomputed | None:
    """The tracker's timeline over [start, end]; None when the engine cannot run here.

    The recorded points are replayed tick by tick into a store, and the tracker runs every
    `step_s` seconds of recorded time (default `auto_step`); points too old to fall in the
    window of the next pass are not replayed (status and detail changes always are).
    """
    step = auto_step(start, end) if step_s is None else max(0.0, step_s)
    try:
        from perftui.diagnosis.tracker import DiagnosisTracker
    except ImportError:
        return None
    tracker = DiagnosisTracker()
    store = MetricStore(capacity=_capacity(rec, window_s))
    advice: dict[str, Advice] = {}
    next_eval: float | None = None
    first_eval = max(rec.start or start, start - 2 * window_s)
    try:
        for tick in iter_ticks(rec):
            if tick.ts > end:
                break
            due = first_eval if next_eval is None else next_eval
            if tick.ts < due - 2 * window_s:
                replay_into(store, Tick(tick.ts, {}, tick.statuses, tick.details))
                continue
            replay_into(store, tick)
            if tick.ts >= due:
                diag = tracker.update(store, window_s)
                next_eval = tick.ts + step
                if tick.ts >= start:
                    _collect(diag, advice)
    except NotImplementedError:
        return None
    timeline = list(tracker.timeline)
    before = [e for e in timeline if e.ts < start][-1:]
    inside = [e for e in timeline if start <= e.ts <= end]
    shown = {e.verdict for e in before + inside}
    return Recomputed(
        before + inside, tuple(a for v, a in sorted(advice.items()) if v in shown), step, tracker.current
    )


def _collect(diag: Diagnosis, advice: dict[str, Advice]) -> None:
    for f in diag.findings:
        if f.verdict == diag.verdict and f.verdict not in advice and (f.suggestions or f.next_step):
            advice[f.verdict] = Advice(f.verdict, f.title, tuple(f.suggestions), f.next_step, culprit_line(f))


def culprit_line(f: Finding) -> str:
    return line(f.culprits)


def recorded_culprits(entries: Any) -> str:
    """The culprits a live `diagnosis.current` detail recorded (their shown text), as one line."""
    if not isinstance(entries, list):
        return ""
    texts = [clean(str(e["text"]), 120) for e in entries if isinstance(e, dict) and e.get("text")]
    return ", ".join(texts)


def advice_from_details(snapshots: Iterable[Any]) -> tuple[Advice, ...]:
    """Advice from `diagnosis.current` details recorded live ({verdict, findings: [...]})."""
    out: dict[str, Advice] = {}
    for snap in snapshots:
        if not isinstance(snap, dict):
            continue
        verdict = snap.get("verdict")
        for f in snap.get("findings") or ():
            if not isinstance(f, dict) or f.get("verdict") != verdict or verdict in out:
                continue
            suggestions = tuple(str(s) for s in f.get("suggestions") or ())
            next_step = str(f.get("next_step") or "")
            if suggestions or next_step:
                who = recorded_culprits(f.get("culprits"))
                out[str(verdict)] = Advice(str(verdict), str(f.get("title", "")), suggestions, next_step, who)
    return tuple(a for _, a in sorted(out.items()))


def verdict_shares(timeline: Sequence[VerdictLike], start: float, end: float) -> dict[str, float]:
    """Share of [start, end] under each verdict; an entry holds until the next one."""
    return _shares([(e.ts, e.verdict) for e in timeline], start, end, "unknown")


def also_shares(timeline: Sequence[TimelineEntry], start: float, end: float) -> dict[str, float]:
    """Share of [start, end] with each co-bottleneck verdict beside the shown one ("io-bound; also
    cpu-bound" for 40 s of 60: {"cpu-bound": 0.67})."""
    return _shares([(e.ts, e.also_verdict) for e in timeline], start, end, "")


def _shares(entries: Sequence[tuple[float, str]], start: float, end: float, before: str) -> dict[str, float]:
    """Share of [start, end] under each label (an entry holds until the next); "" labels are left out."""
    span = end - start
    if span <= 0 or not entries:
        return {}
    out: dict[str, float] = {}
    ordered = sorted(entries, key=lambda e: e[0])
    for i, (ts, label) in enumerate(ordered):
        a = max(start, ts)
        b = min(end, ordered[i + 1][0]) if i + 1 < len(ordered) else end
        if b > a:
            out[label] = out.get(label, 0.0) + (b - a) / span
    if ordered[0][0] > start:
        out[before] = out.get(before, 0.0) + (min(end, ordered[0][0]) - start) / span
    out.pop("", None)
    return {k: round(v, 4) for k, v in sorted(out.items(), key=lambda p: -p[1])}
