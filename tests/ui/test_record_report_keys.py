"""`r` (record) and `s` (report) in the dashboard write real files in the working directory."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from perftui.store.reader import open_recording
from perftui.ui.app import PerftuiApp
from perftui.ui.keys import STOP_CONFIRM_S
from perftui.ui.widgets.header import HeaderBar
from tests.ui.conftest import make_app
from tests.ui.fakes import FakeClock, host_values


def capture_notifications(app: PerftuiApp) -> list[str]:
    seen: list[str] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append(message)
        original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


async def wait_for_work(app: PerftuiApp, timeout: float = 60.0) -> None:
    """Until the file work started in threads has finished."""
    for done in list(app.files.pending_work):
        assert await asyncio.to_thread(done.wait, timeout)


def add_ticks(app: PerftuiApp, clock: FakeClock, start: int, n: int) -> list[float]:
    """n more host ticks, one second apart, rendered like the live timer would."""
    utils = []
    for i in range(start, start + n):
        clock.advance(1.0)
        for source, vals in host_values(i).items():
            app.session.store.append(clock.now, vals, source=source)
        utils.append(float(host_values(i)["cpu"]["cpu.util"] or 0.0))
        app.dashboard.refresh_view()
    return utils


async def test_r_records_to_a_timestamped_file_with_the_diagnosis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app, _, clock = make_app(0, use_tracker=True)
    notes = capture_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert app.files.recording is not None
        path = app.files.recording.path
        assert path.parent == tmp_path and path.name.startswith("perftui-rec-gpu-node-07-")
        assert any(str(path) in n for n in notes)
        assert f"● REC {path.name}" in app.query_one(HeaderBar).text
        utils = add_ticks(app, clock, 200, 6)
        await pilot.press("r", "r")  # the second r confirms the stop
        await pilot.pause()
        assert app.files.recording is None and "REC" not in app.query_one(HeaderBar).text
        await wait_for_work(app)
        await pilot.pause()
    assert any(n.startswith("saved ") and "values over 5 s" in n and str(path) in n for n in notes), notes
    rec = open_recording(path)
    _, vals = rec.series["cpu.util"]
    assert vals.tolist() == pytest.approx(utils)  # only what came after r, all of it
    assert rec.meta["host"] and rec.meta["interval_s"] == 1.0
    assert rec.timeline, "the diagnosis timeline goes into the recording"
    assert "diagnosis.current" in {d.name for d in rec.details}
    assert not [p for p in os.listdir(tmp_path) if p.endswith(("-wal", "-shm"))]  # one finished file


async def test_a_stray_r_does_not_end_a_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One r while recording asks; only a second r within STOP_CONFIRM_S stops (the palette stops at once)."""
    monkeypatch.chdir(tmp_path)
    monotonic = FakeClock(1000.0)
    app, _, clock = make_app(0, monotonic=monotonic)
    notes = capture_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        add_ticks(app, clock, 0, 3)
        rec = app.files.recording
        assert rec is not None
        await pilot.press("r")  # the stray one
        await pilot.pause()
        assert app.files.recording is rec and "● REC" in app.query_one(HeaderBar).text
        assert any("press r again to stop" in n for n in notes), notes
        monotonic.advance(STOP_CONFIRM_S + 1)
        await pilot.press("r")  # too late to confirm the first: asks again
        await pilot.pause()
        assert app.files.recording is rec
        monotonic.advance(1.0)
        await pilot.press("r")  # confirms
        await pilot.pause()
        assert app.files.recording is None
        await wait_for_work(app)
        await pilot.press("r")  # not recording: r starts at once
        await pilot.pause()
        assert app.files.recording is not None
        cmd = next(c for c in app.get_system_commands(app.screen) if c.title == "Record")
        cmd.callback()  # the palette's entry is deliberate: no second step
        assert app.files.recording is None
        await wait_for_work(app)


async def test_quit_while_recording_finishes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app, _, clock = make_app(0, use_tracker=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        add_ticks(app, clock, 0, 3)
        assert app.files.recording is not None
        path = app.files.recording.path
        await pilot.press("q")
        await pilot.pause()
    assert app.files.recording is None
    assert open_recording(path).series["cpu.util"][1].size == 3


async def test_s_writes_a_markdown_report_of_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app, _, _ = make_app(1, use_tracker=True, window=60.0)
    notes = capture_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await wait_for_work(app)
        await pilot.pause()
    assert len(app.files.reports_written) == 1
    out = app.files.reports_written[0]
    assert (
        out.parent == tmp_path and out.name.startswith("perftui-report-gpu-node-07-") and out.suffix == ".md"
    )
    assert any(f"wrote {out}" in n for n in notes), notes
    text = out.read_text()
    assert text.startswith("# perftui report")
    assert "## Diagnosis" in text and "cpu.util" in text and "gpu.0.util" in text
    assert "(1 min 0 s)" in text  # the report covers the dashboard's window, not everything


async def test_s_with_no_samples_says_so_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app, _, _ = make_app(0, seconds=0)
    notes = capture_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await wait_for_work(app)
        await pilot.pause()
    assert app.files.reports_written == [] and os.listdir(tmp_path) == []
    assert any("no samples" in n for n in notes), notes


async def test_r_and_s_in_a_removed_directory_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    app, _, _ = make_app(0)
    notes = capture_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.press("s")
        await pilot.pause()
        assert app.files.recording is None and app.return_value is None  # still running
    assert any(n.startswith("cannot record here") for n in notes), notes
    assert any(n.startswith("cannot write a report here") for n in notes), notes


async def test_browser_mode_refuses_the_keys_that_write_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`perftui web` without --allow-actions: r and s say why and write nothing."""
    from perftui.ui.options import WEB_ACTIONS_ENV

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(WEB_ACTIONS_ENV, "0")
    app, _, _ = make_app(0, use_tracker=True)
    notes = capture_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.press("s")
        await pilot.pause()
        assert app.files.recording is None
        assert not list(app.files.pending_work)
    assert list(tmp_path.iterdir()) == []
    assert sum("off in browser mode" in n for n in notes) == 2
