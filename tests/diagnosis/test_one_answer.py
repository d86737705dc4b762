"""One engine, one answer (issue 24, item 1): on the same mixed cpu+io data the live tracker (record
and dashboard), `perftui diagnose`, replay and the report give one verdict, with the co-bottleneck.

Before: a verdict held by the dashboard ranked 5 points higher for as long as it was shown, so a
"one core saturated" verdict (45 + 5 + 9) outlived 40 s of 25 % storage stalls (56 + 2.5) while a
fresh `diagnose` said io-bound, and the report said cpu-bound for the whole window.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perftui.commands import diagnose as diagnose_cmd
from perftui.commands import record as record_cmd
from perftui.commands import stream as stream_cmd
from perftui.diagnosis.model import TimelineEntry
from perftui.diagnosis.render import render_text
from perftui.diagnosis.tracker import HOLD_S, STEP_S, WINDOW_S, DiagnosisTracker
from perftui.report import rediagnose
from perftui.report.build import build_report
from perftui.report.render_html import render_html
from perftui.report.render_json import render_json
from perftui.report.render_md import render_markdown
from perftui.store.metric_store import MetricStore
from perftui.store.reader import Recording, iter_ticks, open_recording, replay_into
from perftui.ui.replay import ReplayDriver
from perftui.ui.widgets.diagnosis_pane import diagnosis_paragraphs
from tests.diagnosis.mixed_fixture import DD_AT, SECONDS, T0, write_mixed

ALSO = "cpu-bound: one core saturated"


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return open_recording(write_mixed(tmp_path_factory.mktemp("mixed") / "mixed.sqlite"))


def _steps(entries: list[TimelineEntry]) -> list[tuple[float, str, str, str]]:
    return [(e.ts, e.verdict, e.confidence, e.also_verdict) for e in entries]


def _live(rec: Recording, period: float) -> DiagnosisTracker:
    """A live face: the samplers' ticks arrive in a store; the tracker runs every `period` s."""
    store = MetricStore(capacity=256)
    tracker = DiagnosisTracker(hold_s=HOLD_S)
    last: float | None = None
    for tick in iter_ticks(rec):
        replay_into(store, tick)
        if last is None or tick.ts - last >= period:
            tracker.update(store, WINDOW_S)
            last = tick.ts
    return tracker


def test_every_face_reads_the_same_window_hold_and_cadence() -> None:
    from perftui.ui.screens import dashboard

    assert record_cmd.DIAGNOSIS_WINDOW_S == stream_cmd.DIAGNOSIS_WINDOW_S == WINDOW_S
    assert dashboard.DIAG_WINDOW_S == rediagnose.WINDOW_S == WINDOW_S
    assert rediagnose.STEP_S == STEP_S and DiagnosisTracker().hold_s == HOLD_S
    # the dashboard runs the engine every 2 s (cost): its changes land up to a period later
    assert dashboard.DIAG_PERIOD_S >= STEP_S


def test_the_recording_live_path_switches_to_io_with_the_core_as_co_bottleneck(rec: Recording) -> None:
    verdicts = [(e.ts - T0, e.verdict) for e in rec.timeline]
    assert verdicts[0] == (0.0, "cpu-bound")
    assert verdicts[-1][1] == "io-bound" and DD_AT <= verdicts[-1][0] <= DD_AT + WINDOW_S
    last = rec.timeline[-1]
    assert "; also " + ALSO in last.title  # the file's timeline has no column for it: the title says it
    assert any("over the last" in line for line in last.evidence)


def test_live_diagnose_replay_and_report_give_one_answer(rec: Recording) -> None:
    live = _live(rec, STEP_S)
    assert live.current.verdict == "io-bound" and live.current.confidence == "high"

    # the pane shows the verdict with its co-bottleneck, and says the window of its evidence
    shown = "\n".join(
        "".join(text for text, _ in pieces) for pieces, _, _ in diagnosis_paragraphs(live.current)
    )
    assert "● io-bound" in shown and "also " + ALSO in shown and "over the last 10 s" in shown

    # `perftui diagnose` started 10 s before the end: a fresh tracker on the same samples
    store = MetricStore(capacity=64)
    fresh = DiagnosisTracker(hold_s=HOLD_S)
    for tick in iter_ticks(rec):
        if tick.ts > T0 + SECONDS - 1 - WINDOW_S:
            replay_into(store, tick)
            fresh.update(store, WINDOW_S)
    out = json.loads(json.dumps(diagnose_cmd.result_json(fresh.current, fresh, store, 10.0)))
    assert (out["verdict"], out["confidence"]) == ("io-bound", "high")
    assert out["also"]["verdict"] == "cpu-bound" and out["also"]["rule"] == "host.core_saturated"
    assert out["pending"] is None and out["window_s"] == WINDOW_S
    assert "Co-bottleneck: " + ALSO in render_text(fresh.current)

    # the replay face: the same ticks through the replay driver, evaluated once a second
    driver = ReplayDriver(rec)
    replay = DiagnosisTracker(hold_s=HOLD_S)
    replay.update(driver.store, WINDOW_S)
    while not driver.at_end:
        driver.advance(STEP_S)
        replay.update(driver.store, WINDOW_S)
    assert _steps(replay.timeline) == _steps(live.timeline)
    assert replay.current.verdict == "io-bound"

    # the report recomputes through the same tracker: the same timeline, and it says the co-bottleneck
    report = build_report(rec)
    d = report.diagnosis
    assert d.recomputed is not None and d.step_s == STEP_S
    assert [(r.ts, r.verdict, r.confidence) for r in d.recomputed] == [
        (e.ts, e.verdict, e.confidence) for e in live.timeline
    ]
    assert d.recomputed[-1].verdict == "io-bound" and d.recomputed[-1].also.startswith(ALSO)
    assert d.dominant == "io-bound" and d.shares["cpu-bound"] < 0.5
    assert d.also_shares.get("cpu-bound", 0.0) > 0.5
    md = render_markdown(report, charts=False)
    assert "Co-bottleneck beside the verdict shown: cpu-bound" in md and "; also " + ALSO in md
    assert "Co-bottleneck beside the verdict shown: cpu-bound" in render_html(report)
    js = json.loads(render_json(report))
    assert js["diagnosis"]["recomputed"][-1]["also"].startswith(ALSO)


def test_the_dashboard_cadence_gives_the_same_verdicts(rec: Recording) -> None:
    from perftui.ui.screens.dashboard import DIAG_PERIOD_S

    every_second, dashboard = _live(rec, STEP_S), _live(rec, DIAG_PERIOD_S)
    assert [e.verdict for e in dashboard.timeline] == [e.verdict for e in every_second.timeline]
    for a, b in zip(dashboard.timeline, every_second.timeline, strict=True):
        assert abs(a.ts - b.ts) <= DIAG_PERIOD_S
    assert dashboard.current.verdict == "io-bound"


def test_a_report_without_co_bottleneck_keeps_its_json(tmp_path: Path, rec: Recording) -> None:
    # a window before the writer started: one verdict, no co-bottleneck, no new JSON fields
    report = build_report(rec, T0, T0 + DD_AT - 1)
    js = json.loads(render_json(report))
    assert "also_shares" not in js["diagnosis"]
    assert all("also" not in row for row in js["diagnosis"]["recomputed"])
