"""perftui.diagnosis.timeline_log: the one writer of the diagnosis into a recording (record and the
dashboard): a mid-session start writes the verdict in force, a reset tracker starts over."""

from __future__ import annotations

from pathlib import Path

from perftui.diagnosis.model import TimelineEntry
from perftui.diagnosis.timeline_log import TimelineLog
from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.store.metric_store import MetricStore
from perftui.store.reader import open_recording
from perftui.store.recorder import Recorder


def entry(ts: float, verdict: str) -> TimelineEntry:
    return TimelineEntry(ts=ts, verdict=verdict, confidence="high", title=f"{verdict} at {ts:g}")


def record(tmp_path: Path, *, mid_session: bool, steps: list[list[TimelineEntry]]) -> list[tuple[float, str]]:
    store = MetricStore()
    store.append(1.0, {"cpu.util": 5.0}, source="cpu")
    recorder = Recorder(tmp_path / "r.sqlite", store, meta={"interval_s": 1.0})
    recorder.start()
    tracker = DiagnosisTracker()
    log = TimelineLog(recorder, mid_session=mid_session)
    for timeline in steps:
        tracker.timeline[:] = timeline
        log.write(tracker, tracker.current)
    recorder.close()
    rec = open_recording(tmp_path / "r.sqlite")
    assert "diagnosis.current" in {d.name for d in rec.details}
    return [(e.ts, e.verdict) for e in rec.timeline]


def test_from_the_start_every_change_goes_in_once(tmp_path: Path) -> None:
    a, b, c = entry(1, "idle"), entry(2, "cpu_bound"), entry(3, "io_bound")
    assert record(tmp_path, mid_session=False, steps=[[a], [a, b], [a, b], [a, b, c]]) == [
        (1, "idle"),
        (2, "cpu_bound"),
        (3, "io_bound"),
    ]


def test_mid_session_the_verdict_in_force_goes_in_not_the_older_ones(tmp_path: Path) -> None:
    a, b, c = entry(1, "idle"), entry(2, "cpu_bound"), entry(3, "io_bound")
    assert record(tmp_path, mid_session=True, steps=[[a, b], [a, b, c]]) == [
        (2, "cpu_bound"),
        (3, "io_bound"),
    ]


def test_a_reset_tracker_starts_over(tmp_path: Path) -> None:
    a, b, c = entry(1, "idle"), entry(2, "cpu_bound"), entry(5, "io_bound")
    assert record(tmp_path, mid_session=False, steps=[[a, b], [], [c]]) == [
        (1, "idle"),
        (2, "cpu_bound"),
        (5, "io_bound"),
    ]
