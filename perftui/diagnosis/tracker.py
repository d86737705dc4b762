"""DiagnosisTracker: hysteresis over the engine's verdicts, in store time.

Rules of the tracker (store timestamps only, never the wall clock, so a replay gives the same
answer as the live run):
- warm-up: from the first update backed by data, for `hold_s` seconds, the verdict follows the
  engine directly (there is nothing to hold against yet, and sources start at different ticks:
  GPM and rates need two samples); the timeline keeps one entry for it, the latest;
- afterwards a different verdict shows only once the engine has returned it on every update for
  `hold_s` seconds; until then the held verdict stays, with its freshest finding first;
- while a verdict is shown, the engine relaxes that verdict's thresholds by their band (Schmitt
  trigger), so a signal sitting on a threshold does not flap;
- `timeline` records the verdict changes (the first verdict included), stamped with the time the
  new verdict first appeared, and, under the same verdict, changes of what it says: another rule
  (title), another confidence, another co-bottleneck. Those too must hold `hold_s` before they are
  logged (titles carry numbers that move every tick; the rule behind them is what is compared);
- when the attached process exits, its figures leave the window (window.py) and the verdict is
  recomputed at once, without hysteresis: the held verdict may have been about that process;
- time going backwards (a replay restarted) starts a new session: state and timeline are cleared.

HOLD_S, WINDOW_S and STEP_S are the one setting every face uses (dashboard, `diagnose`, `record`,
replay and report), so they agree on the same data; tests/diagnosis/test_one_answer.py checks it.
"""

from __future__ import annotations

from collections.abc import Sequence

from perftui.diagnosis.engine import INSUFFICIENT, co_bottleneck, diagnose, window_from_store
from perftui.diagnosis.model import Diagnosis, Finding, TimelineEntry
from perftui.diagnosis.window import DiagnosisWindow, process_exited
from perftui.store.metric_store import MetricStore

HOLD_S = 3.0  # a new verdict (or a new title, confidence, co-bottleneck) must hold this long
WINDOW_S = 10.0  # seconds of store time each diagnosis reads
STEP_S = 1.0  # the live faces evaluate once a second of store time

_Key = tuple[str, str, str, str, str]  # verdict, rule, subject, confidence, co-bottleneck


def _key(findings: Sequence[Finding]) -> _Key:
    p = findings[0]
    co = co_bottleneck(findings)
    return (p.verdict, p.rule, p.subject, p.confidence, f"{co.verdict}/{co.rule}" if co else "")


_WAITING = Finding(
    verdict="none",
    title="Waiting for samples",
    confidence="low",
    score=0.0,
    evidence=("no samples yet",),
    rule=INSUFFICIENT,
)


class DiagnosisTracker:
    """Feeds store windows to the engine; a new verdict shows only after holding `hold_s`."""

    def __init__(self, hold_s: float = HOLD_S) -> None:
        if hold_s < 0:
            raise ValueError("hold_s must be >= 0")
        self.hold_s = hold_s
        self.timeline: list[TimelineEntry] = []
        self.current: Diagnosis = Diagnosis(verdict="none", confidence="low", findings=(_WAITING,))
        self._started = False
        self._pending: str | None = None
        self._pending_since = 0.0
        self._last_ts: float | None = None
        self._first_ts = 0.0  # store time of the first update backed by data
        self._logged: _Key | None = None  # what the last timeline entry says
        self._change: _Key | None = None  # a different title/confidence/co-bottleneck, not yet logged
        self._change_since = 0.0
        self._proc_gone = False

    @property
    def started(self) -> bool:
        """True once a verdict backed by data has been shown."""
        return self._started

    @property
    def last_ts(self) -> float | None:
        """Store time of the latest update."""
        return self._last_ts

    @property
    def pending(self) -> tuple[str, float] | None:
        """A different verdict the engine returns but that has not held long enough: (verdict, since)."""
        return None if self._pending is None else (self._pending, self._pending_since)

    def reset(self) -> None:
        self.timeline.clear()
        self.current = Diagnosis(verdict="none", confidence="low", findings=(_WAITING,))
        self._started = False
        self._pending = None
        self._last_ts = None
        self._logged = self._change = None
        self._proc_gone = False

    def update(self, store: MetricStore, window_s: float = WINDOW_S) -> Diagnosis:
        """Diagnose the store's last `window_s` seconds (ending at its newest timestamp)."""
        ts = store.last_ts
        if ts is None or ts == self._last_ts:
            return self.current
        return self.observe(ts, window_from_store(store, window_s, now=ts))

    def observe(self, ts: float, window: DiagnosisWindow) -> Diagnosis:
        """One step from a window already built (replays, tests)."""
        if self._last_ts is not None and ts < self._last_ts:
            self.reset()
        gone = process_exited(window.details)
        if gone and not self._proc_gone and self._started:
            # the attached process exited: what was held may be about it; recompute at once
            self._proc_gone = True
            self._last_ts = ts
            findings = diagnose(window)
            if findings[0].rule != INSUFFICIENT:
                self._show(ts, findings)
            return self.current
        self._proc_gone = gone
        held = self.current.verdict if self._started else None
        return self.feed(ts, diagnose(window, held=held))

    def feed(self, ts: float, findings: list[Finding]) -> Diagnosis:
        """Apply hysteresis to one engine answer at store time `ts`."""
        if self._last_ts is not None and ts < self._last_ts:
            self.reset()
        self._last_ts = ts
        if not findings or findings[0].rule == INSUFFICIENT:
            if not self._started and findings:
                self.current = Diagnosis("none", "low", tuple(findings))
            return self.current
        primary = findings[0]
        if not self._started:
            self._first_ts = ts
            self._show(ts, findings)
            return self.current
        if ts - self._first_ts < self.hold_s:  # warm-up: follow the engine, one timeline entry
            self.timeline.pop()
            self._show(self._first_ts, findings)
            return self.current
        if primary.verdict == self.current.verdict:
            self._pending = None
            self.current = Diagnosis(primary.verdict, primary.confidence, tuple(findings), self.current.since)
            self._note(ts, findings)
            return self.current
        if primary.verdict != self._pending:
            self._pending, self._pending_since = primary.verdict, ts
        if ts - self._pending_since >= self.hold_s:
            self._show(self._pending_since, findings)
            return self.current
        held = next((f for f in findings if f.verdict == self.current.verdict), self.current.primary)
        rest = tuple(f for f in findings if f is not held)
        head = (held,) if held is not None else ()
        confidence = held.confidence if held is not None else self.current.confidence
        self.current = Diagnosis(self.current.verdict, confidence, (*head, *rest), self.current.since)
        return self.current

    def _note(self, ts: float, findings: list[Finding]) -> None:
        """Same verdict: log a change of rule (title), confidence or co-bottleneck once it has held."""
        key = _key(findings)
        if key == self._logged:
            self._change = None
            return
        if key != self._change:
            self._change, self._change_since = key, ts
        if ts - self._change_since >= self.hold_s:
            self._log(self._change_since, findings)

    def _show(self, since: float, findings: list[Finding]) -> None:
        primary = findings[0]
        self._started = True
        self._pending = None
        self.current = Diagnosis(primary.verdict, primary.confidence, tuple(findings), since)
        self._log(since, findings)

    def _log(self, since: float, findings: list[Finding]) -> None:
        primary, co = findings[0], co_bottleneck(findings)
        self._logged, self._change = _key(findings), None
        self.timeline.append(
            TimelineEntry(
                since,
                primary.verdict,
                primary.confidence,
                primary.title,
                primary.evidence,
                also_verdict=co.verdict if co else "",
                also=co.title if co else "",
            )
        )
