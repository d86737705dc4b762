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
  new verdict first appeared;
- time going backwards (a replay restarted) starts a new session: state and timeline are cleared.
"""

from __future__ import annotations

from perftui.diagnosis.engine import INSUFFICIENT, diagnose, window_from_store
from perftui.diagnosis.model import Diagnosis, Finding, TimelineEntry
from perftui.diagnosis.window import DiagnosisWindow
from perftui.store.metric_store import MetricStore

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

    def __init__(self, hold_s: float = 3.0) -> None:
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

    @property
    def started(self) -> bool:
        """True once a verdict backed by data has been shown."""
        return self._started

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

    def update(self, store: MetricStore, window_s: float = 10.0) -> Diagnosis:
        """Diagnose the store's last `window_s` seconds (ending at its newest timestamp)."""
        ts = store.last_ts
        if ts is None or ts == self._last_ts:
            return self.current
        return self.observe(ts, window_from_store(store, window_s, now=ts))

    def observe(self, ts: float, window: DiagnosisWindow) -> Diagnosis:
        """One step from a window already built (replays, tests)."""
        if self._last_ts is not None and ts < self._last_ts:
            self.reset()
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

    def _show(self, since: float, findings: list[Finding]) -> None:
        primary = findings[0]
        self._started = True
        self._pending = None
        self.current = Diagnosis(primary.verdict, primary.confidence, tuple(findings), since)
        self.timeline.append(
            TimelineEntry(since, primary.verdict, primary.confidence, primary.title, primary.evidence)
        )
