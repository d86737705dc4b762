"""Pilot tests of `perftui replay`: the dashboard driven by tests/fixtures/recordings/base.sqlite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from perftui.store.reader import Recording, open_recording
from perftui.ui.app import ReplayApp, create_replay_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.replay import ReplayDriver
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel

BASE = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "base.sqlite"


@pytest.fixture(scope="module")
def rec() -> Recording:
    return open_recording(BASE)


def make(rec: Recording, speed: float = 1.0) -> tuple[ReplayApp, ReplayDriver]:
    driver = ReplayDriver(rec, speed=speed)
    return create_replay_app(driver, AppOptions(theme="perftui-dark"), TestKnobs(live_timer=False)), driver


def header(app: ReplayApp) -> str:
    return app.query_one(HeaderBar).text


def points_until(rec: Recording, key: str, t: float) -> int:
    return int(np.count_nonzero(rec.series[key][0] <= t))


async def test_header_and_panels_come_from_the_recording(rec: Recording) -> None:
    app, driver = make(rec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        h = header(app)
        assert h.startswith("REPLAY base.sqlite · 00:00 / 01:59 · 1× · gpu-node-7 · ")
        assert "1× NVIDIA H100 80GB HBM3" in h and "driver 550.54.15" in h and "tier GPM" in h
        ids = {p.id for p in app.query(MetricPanel)}
        assert "gpu-0" in ids and "cpu" in ids
        assert app.session.store is driver.store


async def test_play_pause_seek_and_speed(rec: Recording) -> None:
    app, driver = make(rec)
    start = driver.start
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.dashboard.replay_step(5.0)
        assert driver.position == start + 5
        assert app.session.store.series("cpu.util")[0].size == points_until(rec, "cpu.util", start + 5)
        assert "00:05 / 01:59" in header(app)

        await pilot.press("p")
        assert driver.paused and "PAUSED" in header(app)
        app.dashboard.replay_step(30.0)
        assert driver.position == start + 5  # paused: time stands still
        await pilot.press("p")
        assert not driver.paused

        before = app.session.store
        await pilot.press("right")
        assert driver.position == start + 15 and app.session.store is not before  # the store was rebuilt
        assert app.session.store.series("cpu.util")[0].size == points_until(rec, "cpu.util", start + 15)
        assert app.session.store.last_ts is not None and app.session.store.last_ts <= start + 15
        await pilot.press("left", "left")
        assert driver.position == start  # clamped at the start
        await pilot.press("end")
        assert driver.at_end and "01:59 / 01:59" in header(app) and "END" in header(app)
        assert app.session.store.series("cpu.util")[0].size == rec.series["cpu.util"][0].size
        await pilot.press("home")
        assert driver.position == start

        await pilot.press("right_square_bracket")
        assert driver.speed == 2.0 and "· 2× ·" in header(app)
        app.dashboard.replay_step(1.5)
        assert driver.position == start + 3.0
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert driver.speed == 0.5
        app.dashboard.replay_step(2.0)
        assert driver.position == start + 4.0
        await pilot.press("end", "p")  # p at the end plays it again
        assert driver.position == start and not driver.paused


async def test_diagnosis_is_recomputed_from_the_recorded_data(rec: Recording) -> None:
    app, driver = make(rec, speed=1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(40):  # 40 s of store time, one render a second
            app.dashboard.replay_step(1.0)
        await pilot.pause()
        diag = app.query_one(DiagnosisPane).diagnosis
        assert diag is not None and diag.verdict == "io-bound"  # the recording's first verdict
        assert app.dashboard.tracker is not None and app.dashboard.tracker.timeline
        # a seek back starts the diagnosis over on the rebuilt store
        await pilot.press("home")
        timeline = app.dashboard.tracker.timeline
        assert len(timeline) <= 1 and all(e.ts <= driver.position for e in timeline)


async def test_s_in_replay_reports_the_window_and_r_does_not_record(
    rec: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app, _ = make(rec, speed=1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("end")
        await pilot.press("r")
        assert app.files.recording is None
        await pilot.press("s")
        for done in list(app.files.pending_work):
            assert await asyncio.to_thread(done.wait, 60)
        await pilot.pause()
    assert [p.name for p in tmp_path.iterdir()] == [app.files.reports_written[0].name]
    text = app.files.reports_written[0].read_text()
    assert text.startswith("# perftui report — gpu-node-7") and "Recording: `base.sqlite`" in text
    assert "12:00:59 UTC → 2026-01-01 12:01:59 UTC (1 min 0 s)" in text
