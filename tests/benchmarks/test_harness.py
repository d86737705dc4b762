"""The benchmark harness (benchmarks/monitors): its parsing and statistics, and a short smoke run."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from monitors import proc, results, stats, tools
from monitors.headless import bytes_per_hour
from monitors.session import RunResult, observer_pairs, run_session, screen_has
from monitors.workload import parse_child_times, run_job
from run_all import parse_args, parse_sizes

STAT = "4242 (tmux: server (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 30 12 20 0 1 0 99 0 0"


def test_stat_ticks_handles_parentheses_and_children() -> None:
    assert proc.parse_stat_ticks(STAT) == 325
    assert proc.parse_stat_ticks(STAT, children=True) == 325 + 42


def test_kb_fields_in_bytes_and_non_kb_lines_skipped() -> None:
    text = "Name:\tbtop\nVmRSS:\t    5632 kB\nThreads:\t3\nPss:  2048 kB\nRss: x kB\n"
    assert proc.parse_kb_fields(text) == {"VmRSS": 5632 * 1024, "Pss": 2048 * 1024}


def test_memory_of_this_process_has_rss_and_pss() -> None:
    mem = proc.memory(os.getpid())
    assert mem["rss"] > 1_000_000
    assert 0 < mem["pss"] <= mem["rss"]


def test_tree_cpu_includes_a_busy_child() -> None:
    import subprocess

    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<0.6: pass"]
    )
    try:
        pids = proc.tree_pids(os.getpid())
        assert child.pid in pids and os.getpid() in pids
    finally:
        child.wait()


def test_summary_median_extremes_iqr_and_missing_values() -> None:
    s = stats.summarise([3.0, None, 1.0, float("nan"), 2.0, 10.0])
    assert (s.n, s.median, s.lo, s.hi, s.spread) == (4, 2.5, 1.0, 10.0, 9.0)
    assert s.iqr == pytest.approx(4.75 - 1.75)  # inclusive quartiles of 1, 2, 3, 10
    empty = stats.summarise([None])
    assert empty.n == 0 and empty.median is None and empty.spread is None
    assert stats.fmt(empty) == "–"
    assert stats.fmt(stats.summarise([2.0])) == "2.00"
    assert stats.fmt(s, 10.0, 0) == "25 [10–100]"


def test_slowdowns() -> None:
    assert stats.slowdown_pct(2.2, 2.0) == pytest.approx(10.0)
    assert stats.paired_slowdowns([(1.0, 1.0), (0.9, 1.0)]) == pytest.approx([0.0, -10.0])
    with pytest.raises(ValueError):
        stats.slowdown_pct(1.0, 0.0)


def test_workload_takes_the_slowest_child_and_runs() -> None:
    assert parse_child_times(["1.5\n", "noise\n2.25\n"]) == 2.25
    with pytest.raises(ValueError):
        parse_child_times([])
    assert 0 < run_job(10_000, 2) < 5


def test_record_growth_is_the_slope_between_two_lengths() -> None:
    short = {"file_bytes": 40_000, "recorded_s": 10.0}
    long = {"file_bytes": 60_000, "recorded_s": 30.0}
    assert bytes_per_hour(short, long) == pytest.approx(1000.0 * 3600)
    assert bytes_per_hour(long, short) is None


def test_sizes_and_quick_args() -> None:
    assert parse_sizes("200x50, 80X24") == [(200, 50), (80, 24)]
    with pytest.raises(ValueError):
        parse_sizes("200by50")
    a = parse_args(["--quick"])
    assert a.runs == 1 and a.duration == 10.0 and a.small_duration == 10.0
    assert parse_args(["--duration", "30"]).small_duration == 30.0


def test_frame_markers_need_all_of_them() -> None:
    t = tools.perftui()
    assert screen_has("CPU 5 % used 2 GiB ... Diagnosis ... q Quit", t.frame_markers)
    assert not screen_has("CPU ... Diagnosis ... q Quit", t.frame_markers)  # no values yet
    assert tools.perftui(0.1).name == "perftui@0.1s" and "--interval 0.1" in tools.perftui(0.1).command


def test_markdown_table_from_runs() -> None:
    common = {"rss_bytes": 5e7, "pss_bytes": 4e7, "first_paint_s": 0.25}
    runs = [
        RunResult("perftui", "80x24", first_frame_s=0.5, cpu_pct=1.0, bytes_per_s=4000.0, key_open_s=0.05,
                  observer_pairs=[(2.2, 2.0), (2.0, 2.0)], **common),
        RunResult("perftui", "80x24", first_frame_s=0.7, cpu_pct=3.0, bytes_per_s=6000.0, key_open_s=0.07,
                  observer_pairs=[(2.4, 2.0)], **common),
        RunResult("htop", "80x24", error="no complete frame"),
    ]  # fmt: skip
    lines = results.dashboard_table(runs)
    assert lines[2] == (
        "| 80x24 | perftui | 2.00 [1.00–3.00] | 5.0 [4.0–6.0] | 50 [50–50] | 40 [40–40] | 0.25 [0.25–0.25] "
        "| 0.60 [0.50–0.70] | 60 [50–70] | 10.0 [0.0–20.0] |"
    )
    assert lines[3].startswith("| 80x24 | htop (no complete frame) | – |")
    assert "perftui" in results.progress(runs[0]) and "+5.0 %" in results.progress(runs[0])


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_smoke_run_of_perftui_in_tmux() -> None:
    """A few seconds of the real harness on the real perftui (no timing asserted, only that each
    figure was measured and is plausible)."""
    r = run_session(tools.perftui(1.0), 80, 24, duration=2.0, warmup=1.0, presses=1)
    assert r.error is None
    assert r.first_frame_s is not None and 0 < r.first_frame_s < 20
    assert r.cpu_pct is not None and 0 <= r.cpu_pct < 200
    assert r.bytes_per_s is not None and r.bytes_per_s > 0  # the clock and sparklines move
    assert r.rss_bytes is not None and r.pss_bytes is not None and 0 < r.pss_bytes <= r.rss_bytes
    assert r.key_open_s is not None and r.key_close_s is not None
    assert r.quit_ok and r.extra["quit_presses"] == 1


def test_observer_pairs_stop_and_resume_the_monitor() -> None:
    import subprocess

    monitor = subprocess.Popen(["sleep", "30"])
    try:
        pairs = observer_pairs(monitor.pid, 20_000, 2)
        assert len(pairs) == 2 and all(t > 0 for p in pairs for t in p)
        state = Path(f"/proc/{monitor.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state != "T"  # resumed, not left stopped
    finally:
        monitor.kill()
        monitor.wait()


def test_tools_do_not_inherit_no_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitors.tmux import clean_env

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    env = clean_env()
    assert "PYTHONDONTWRITEBYTECODE" not in env and "TMUX" not in env
    assert env["COLORTERM"] == "truecolor" and env["PATH"] == os.environ["PATH"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_smoke_run_of_the_bare_textual_reference() -> None:
    """The reference row: the same session code recognises its frame, opens its help and quits it."""
    r = run_session(tools.bare_textual(), 80, 24, duration=1.0, warmup=1.0, presses=1)
    assert r.error is None and r.first_frame_s is not None
    assert r.key_open_s is not None and r.key_close_s is not None
    assert r.quit_ok
