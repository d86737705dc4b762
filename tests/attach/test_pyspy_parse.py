"""Parsers and error explanations on real py-spy 0.4 output saved from this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from perftui.samplers.pyspy import (
    NOT_PYTHON,
    ThreadSample,
    explain_failure,
    parse_dump_json,
    parse_raw,
    summarize_stderr,
)
from perftui.samplers.stack_window import StackWindow

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "pyspy"


def test_parse_dump_json_cpu_and_sleep() -> None:
    threads = parse_dump_json((FIX / "dump_cpu_and_sleep.json").read_text())
    by_name = {t.thread_name: t for t in threads}
    assert set(by_name) == {"MainThread", "sleepy"}
    main, sleepy = by_name["MainThread"], by_name["sleepy"]
    assert main.active is True and main.owns_gil is True
    assert sleepy.active is False and sleepy.owns_gil is False
    assert main.frames[0].name == "inner" and main.frames[0].filename.endswith("cpu.py")
    assert main.frames[-1].name == "<module>"  # innermost first
    assert sleepy.frames[0].name == "sleeper" and sleepy.frames[0].line == 12
    assert sleepy.frames[-1].filename.endswith("threading.py")
    assert main.tid == main.pid  # the main thread's OS id is the PID


def test_parse_dump_json_gil_threads() -> None:
    threads = parse_dump_json((FIX / "dump_gil_threads.json").read_text())
    workers = [t for t in threads if t.thread_name.startswith("w")]
    assert len(workers) == 4
    assert sum(1 for t in threads if t.owns_gil) <= 1
    assert all(t.frames[0].name == "spin" for t in workers)


def test_parse_raw_idle() -> None:
    rows = parse_raw((FIX / "record_raw_idle.txt").read_text())
    assert sum(r.weight for r in rows) == 98  # py-spy reported "Samples: 98"
    leaves = {r.frames[0].name for r in rows}
    assert leaves == {"sleeper", "inner"}
    inner = [r for r in rows if r.frames[0].name == "inner"]
    assert {r.frames[0].line for r in inner} == {4, 5}
    assert inner[0].frames[-1].name == "<module>"
    assert all(r.active is None and r.tid is None for r in rows)


def test_parse_raw_threads() -> None:
    rows = parse_raw((FIX / "record_raw_threads.txt").read_text())
    assert sum(r.weight for r in rows) == 245  # "Samples: 245"
    names = {r.thread_name for r in rows}
    assert names == {"MainThread", "w0", "w1", "w2", "w3"}
    assert all(isinstance(r.tid, int) and r.tid > 0 for r in rows)
    main = next(r for r in rows if r.thread_name == "MainThread")
    assert main.frames[0].name == "Thread._wait_for_tstate_lock"


def test_parse_raw_odd_lines() -> None:
    rows = parse_raw("\nnot a stack\n<module> (/a b/c:d.py:7);f (x.py:3) 2\nbroken (x.py:1) notanumber\n")
    assert len(rows) == 1
    assert rows[0].frames[0].name == "f" and rows[0].frames[1].filename == "/a b/c:d.py"
    assert rows[0].frames[1].line == 7 and rows[0].weight == 2


def test_window_from_raw_fixture() -> None:
    w = StackWindow(10.0)
    rows = parse_raw((FIX / "record_raw_idle.txt").read_text())
    w.add(100.0, rows)
    top = w.top()
    assert top[0]["function"] in {"sleeper", "inner"}
    by_fn = {t["function"]: t for t in top}
    inner_n = sum(r.weight for r in rows if r.frames[0].name == "inner")
    assert by_fn["inner"]["self_pct"] == pytest.approx(100.0 * inner_n / 98)
    assert by_fn["<module>"]["self_pct"] == 0.0
    assert abs(by_fn["<module>"]["total_pct"] - by_fn["inner"]["total_pct"]) < 1e-9
    assert sum(t["self_pct"] for t in top) <= 100.0 + 1e-9


def test_window_slides() -> None:
    w = StackWindow(5.0)
    s = ThreadSample(1, 1, "MainThread", True, True, [], category="compute")
    w.add(0.0, [s])
    w.add(3.0, [ThreadSample(1, 1, "MainThread", False, False, [], category="idle")])
    assert w.shares()["compute"] == 50.0
    w.prune(6.0)
    assert w.shares()["idle"] == 100.0 and w.dumps == 1
    w.prune(100.0)
    assert w.shares() == {} and w.total() == 0


def test_explain_permission() -> None:
    stderr = (FIX / "err_permission.stderr").read_text()
    err = explain_failure(1234, 1, stderr)
    assert err.kind == "permission"
    msg = str(err)
    assert "ptrace" in msg and "ptrace_scope=0" in msg and "root" in msg and "SYS_PTRACE" in msg
    assert "never runs sudo" in msg and "\n" not in msg


def test_explain_not_python() -> None:
    err = explain_failure(5, 1, (FIX / "err_not_python.stderr").read_text())
    assert err.kind == "not_python" and str(err) == NOT_PYTHON


def test_explain_no_process() -> None:
    err = explain_failure(999999, 1, (FIX / "err_no_process.stderr").read_text())
    assert err.kind == "no_process" and "999999" in str(err)


def test_explain_other_failure_is_one_line() -> None:
    err = explain_failure(
        7, 101, "\nError: Something odd happened\n\nStack backtrace:\n   0: foo\n   1: bar\n"
    )
    assert err.kind == "failed"
    assert str(err) == "py-spy failed (exit 101): Something odd happened"
    assert "\n" not in str(err) and "backtrace" not in str(err)
    assert summarize_stderr("") == "no error output"
