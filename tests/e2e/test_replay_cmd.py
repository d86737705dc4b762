"""`perftui replay`, `perftui attach` and `perftui --record` end to end: bad input is one line and
exit 2 before any UI; in a real terminal (detached tmux) replay plays, seeks and quits, the
dashboard records to a file that opens, and the attached dashboard shows the process tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from perftui.store.reader import open_recording
from tests.cli_run import perftui
from tests.e2e.test_dashboard_tmux import PERFTUI, SETTLE, Tmux
from tests.fixtures.bad_files import bad_files
from tests.polling import wait_for

BASE = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "base.sqlite"
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def one_line_exit_2(res: subprocess.CompletedProcess[str], needle: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_replay_bad_files_are_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = bad_files(tmp_path)
    assert len(cases) >= 5
    for name, (path, words) in cases.items():
        res = perftui("replay", str(path))
        one_line_exit_2(res, str(path))
        assert words.lower() in res.stderr.lower(), (name, res.stderr)
    one_line_exit_2(perftui("replay", str(tmp_path / "missing.sqlite")), "no such file")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--speed", "0"], "--speed must be between"),
        (["--speed", "1000"], "--speed must be between"),
        (["--window", "1"], "--window must be between"),
        (["--theme", "nope"], "unknown theme 'nope'"),
    ],
)
def test_replay_bad_options_exit_2(args: list[str], needle: str) -> None:
    one_line_exit_2(perftui("replay", str(BASE), *args), needle)


def test_replay_needs_a_terminal() -> None:
    one_line_exit_2(perftui("replay", str(BASE)), "needs a terminal")


@pytest.mark.parametrize("cmd", [["attach", "999999999"], ["attach", "0"], ["--pid", "999999999"]])
def test_attach_bad_pid_exits_2_before_the_ui(cmd: list[str]) -> None:
    res = perftui(*cmd, "--no-gpu")
    one_line_exit_2(res, "PID")
    assert "terminal" not in res.stderr  # checked before the terminal, before any UI


def test_record_to_an_existing_file_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "r.sqlite"
    target.write_text("keep me")
    one_line_exit_2(perftui("--no-gpu", "--record", str(target)), "already exists")
    assert target.read_text() == "keep me"


def start(tmux: Tmux, args: str, cwd: Path) -> None:
    cmd = f"cd {cwd}; {SETTLE}; {PERFTUI} {args}; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "140", "-y", "40", cmd)


@pytest.mark.e2e
@needs_tmux
def test_replay_plays_seeks_and_quits(tmux: Tmux, tmp_path: Path) -> None:
    start(tmux, f"replay {BASE} --speed 5", tmp_path)
    screen = tmux.wait_for("REPLAY base.sqlite", timeout=60)
    assert "gpu-node-7" in screen and "Traceback" not in screen
    tmux.wait_for("io-bound", timeout=30)  # the diagnosis, recomputed from the recording
    tmux.run("send-keys", "-t", "e2e", "End")
    tmux.wait_for("01:59 / 01:59", timeout=20)
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=30)
    assert "PERFTUI_EXIT=0" in screen and "Traceback" not in screen


@pytest.mark.e2e
@needs_tmux
def test_dashboard_record_writes_a_recording_that_opens(tmux: Tmux, tmp_path: Path) -> None:
    out = tmp_path / "dash.sqlite"
    start(tmux, f"--no-gpu --interval 0.5 --record {out}", tmp_path)
    tmux.wait_for("REC dash.sqlite", timeout=60)
    tmux.wait_for("busiest", timeout=30)
    assert tmux.wait_redraws(5, timeout=30)  # a few ticks at 0.5 s go into the file
    # a verdict backed by data (not "not enough samples yet"), so the timeline has its first entry
    assert wait_for(
        lambda: any(c in tmux.screen() for c in ("(high confidence)", "(medium confidence)")), timeout=60
    )
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=60)
    assert "PERFTUI_EXIT=0" in screen and f"wrote {out}" in screen.replace("\n", ""), screen
    rec = open_recording(out)
    assert rec.series["cpu.util"][1].size >= 3
    assert rec.timeline, "the dashboard's diagnosis timeline is in the recording"
    assert rec.meta["interval_s"] == 0.5


@pytest.mark.e2e
@needs_tmux
def test_attach_shows_the_tree_then_the_stacks(tmux: Tmux, tmp_path: Path, python_child: int) -> None:
    start(tmux, f"attach {python_child} --no-gpu --interval 0.5", tmp_path)
    screen = tmux.wait_for(f"PID {python_child}", timeout=60)
    assert "Process tree" in screen
    tmux.run("send-keys", "-t", "e2e", "v")
    tmux.wait_for("Stacks", timeout=20)
    tmux.wait_for("idle", timeout=30)  # py-spy sees the child sleeping
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=30)
    assert "PERFTUI_EXIT=0" in screen and "Traceback" not in screen
