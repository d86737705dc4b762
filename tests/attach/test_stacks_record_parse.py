"""The record backend's pure parts: raw slices, /proc polls, state attribution, the weighted window."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from perftui.core.stack_categories import STACK_CATEGORIES
from perftui.samplers.pyspy import ThreadSample, parse_raw
from perftui.samplers.stack_window import StackWindow
from perftui.samplers.thread_state import (
    ThreadPoll,
    attribute_states,
    gil_evidence,
    gil_proxy_ok,
    poll_category,
    poll_round,
    read_thread_poll,
    state_mix,
    thread_cpu_ns,
)

PID = 4100
# A slice of `py-spy record --format raw --threads --idle --full-filenames` (py-spy 0.4.3, shortened):
# an unnamed main thread (the target never imported threading), a named worker, a socket wait.
LIB = "/usr/lib/python3.11"
RAW = (
    f"thread ({PID});<module> (/srv/app.py:30);step (/srv/app.py:12);inner (/srv/app.py:5) 7\n"
    f"thread ({PID});<module> (/srv/app.py:30);step (/srv/app.py:12);inner (/srv/app.py:6) 3\n"
    f"thread (4101): fetcher;Thread._bootstrap ({LIB}/threading.py:1002);fetch (/srv/app.py:20);"
    f"HTTPResponse.read ({LIB}/http/client.py:460);SocketIO.readinto ({LIB}/socket.py:706) 6\n"
    f"thread (4101): fetcher;Thread._bootstrap ({LIB}/threading.py:1002);fetch (/srv/app.py:21) 4\n"
)


def running(other: bool = False, read_rate: float | None = None) -> ThreadPoll:
    return ThreadPoll("R", True, None, read_rate, other)


def blocked(kind: str, other: bool = False, state: str = "S") -> ThreadPoll:
    return ThreadPoll(state, False, kind, None, other)


# -- parsing ------------------------------------------------------------------
def test_parse_raw_slice_with_thread_ids_and_names() -> None:
    rows = parse_raw(RAW, PID)
    assert sum(r.weight for r in rows) == 20
    main = [r for r in rows if r.tid == PID]
    assert {r.thread_name for r in main} == {"MainThread"}  # no name: the dump's naming rule
    assert all(r.pid == PID and r.active is None and r.owns_gil is None for r in rows)
    assert main[0].frames[0].name == "inner" and main[0].frames[0].filename == "/srv/app.py"
    assert main[0].frames[-1].name == "<module>" and main[0].frames[0].line == 5
    fetcher = [r for r in rows if r.tid == 4101]
    assert {r.thread_name for r in fetcher} == {"fetcher"}
    assert fetcher[0].frames[0].filename == "/usr/lib/python3.11/socket.py"


def test_parse_raw_unnamed_thread_that_is_not_the_main_one() -> None:
    rows = parse_raw("thread (77);f (/a.py:1) 2\nthread (0x7F00AB);g (/b.py:2) 1\n", pid=5)
    assert [(r.tid, r.thread_name, r.weight) for r in rows] == [
        (77, "thread 77", 2),
        (0x7F00AB, f"thread {0x7F00AB}", 1),
    ]
    # "thread (" as a function name is a frame, not a thread header
    rows = parse_raw("thread (x): y;f (/a.py:1) 1\n", pid=5)
    assert rows[0].tid is None and rows[0].frames[-1].name == "thread (x): y"


# -- /proc polls ----------------------------------------------------------------
def _task(root: Path, pid: int, tid: int, state: str, syscall: str, read_bytes: int | None = None) -> None:
    d = root / str(pid) / "task" / str(tid)
    d.mkdir(parents=True)
    (d / "stat").write_text(f"{tid} (python3 (x)) {state} 1 2 3 4 5 6 7 8 9 10 11 12 13 14\n")
    (d / "syscall").write_text(syscall)
    if read_bytes is not None:
        (d / "io").write_text(
            f"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: {read_bytes}\nwrite_bytes: 0\n"
        )


def test_read_thread_poll_from_proc_files(tmp_path: Path) -> None:
    _task(tmp_path, 10, 10, "R", "running\n", read_bytes=1_000)
    _task(tmp_path, 10, 11, "S", "202 0x1 0x2 0x3 0x4 0x5 0x6 0x7ffd 0x7f00\n")  # futex
    _task(tmp_path, 10, 12, "D", "17 0x1 0x2 0x3 0x4 0x5 0x6 0x7ffd 0x7f00\n")  # pread64
    _task(tmp_path, 10, 13, "S", "-1 0x7ffd 0x7f00\n")  # not in a syscall (number -1)
    root = str(tmp_path)
    history: dict[tuple[int, int], tuple[float, int]] = {}
    p = read_thread_poll(10, 10, root, history, now=1.0)
    assert p == ThreadPoll("R", True, None, None) and history[(10, 10)] == (1.0, 1_000)
    (tmp_path / "10" / "task" / "10" / "io").write_text("read_bytes: 3001000\n")
    p = read_thread_poll(10, 10, root, history, now=2.0)
    assert p is not None and p.read_rate == pytest.approx(3_000_000.0)
    f = read_thread_poll(10, 11, root, history)
    assert f is not None and (f.state, f.running) == ("S", False)
    assert f.syscall == {"x86_64": "futex", "aarch64": "socket"}.get(platform.machine())  # numbers differ
    d = read_thread_poll(10, 12, root, history)
    assert d is not None and d.state == "D" and d.bucket == "blocked"
    n = read_thread_poll(10, 13, root, history)
    assert n is not None and n.running is None and n.syscall is None and n.bucket == "blocked"
    assert read_thread_poll(10, 99, root, history) is None  # gone
    (tmp_path / "10" / "task" / "11" / "schedstat").write_text("123456789 2000 31\n")
    assert thread_cpu_ns(10, 11, root) == 123_456_789 and thread_cpu_ns(10, 12, root) is None


def test_poll_round_marks_another_running_thread(tmp_path: Path) -> None:
    _task(tmp_path, 10, 10, "R", "running\n")
    _task(tmp_path, 10, 11, "S", "202 0x1\n")
    _task(tmp_path, 20, 20, "S", "202 0x1\n")  # another process: its GIL is its own
    polls = poll_round([(10, 10), (10, 11), (20, 20), (10, 55)], str(tmp_path))
    assert set(polls) == {(10, 10), (10, 11), (20, 20)}
    assert polls[(10, 11)].other_running and not polls[(10, 10)].other_running
    assert not polls[(20, 20)].other_running


# -- state attribution ------------------------------------------------------------
def test_poll_category_follows_the_thread_state_rules() -> None:
    assert poll_category(running()) == "compute"
    assert poll_category(running(other=True)) == "compute"  # on a CPU itself
    assert poll_category(blocked("futex", other=True)) == "gil"
    assert poll_category(blocked("futex", other=True), gil_proxy=False) == "idle"  # a lock wait
    assert poll_category(blocked("futex")) == "idle"
    assert poll_category(blocked("sleep")) == "idle"
    assert poll_category(blocked("socket")) == "socket_wait"
    assert poll_category(blocked("disk")) == "disk_read"
    assert poll_category(blocked("other", state="D")) == "disk_read"
    assert poll_category(running(read_rate=5e6)) == "disk_read"
    assert poll_category(blocked("other")) == "idle"


def test_state_mix_in_proportion_to_the_polls() -> None:
    polls = [running()] * 3 + [blocked("sleep")] * 7
    assert state_mix({}, 10.0, polls) == pytest.approx({"compute": 0.3, "idle": 0.7})
    gil = [running()] * 1 + [blocked("futex", other=True)] * 4
    assert state_mix({}, 5.0, gil) == pytest.approx({"compute": 0.2, "gil": 0.8})
    assert state_mix({}, 5.0, gil, gil_proxy=False) == pytest.approx({"compute": 0.2, "idle": 0.8})
    assert state_mix({}, 5.0, []) == {"compute": 1.0}  # no polls: ThreadState() decides


def test_state_mix_runnable_beyond_its_cpu_time_waits_for_the_gil() -> None:
    # 5 threads sharing one GIL: this one was seen runnable in 2 of 5 polls (with others running),
    # but got only 20 % of a CPU: one of those polls was a wait (woken, not yet holding the GIL)
    polls = [running(other=True)] * 2 + [blocked("futex", other=True)] * 3
    assert state_mix({}, 5.0, polls) == pytest.approx({"compute": 0.4, "gil": 0.6})
    assert state_mix({}, 5.0, polls, cpu_share=0.2) == pytest.approx({"compute": 0.2, "gil": 0.8})
    assert state_mix({}, 5.0, polls, cpu_share=0.5) == pytest.approx({"compute": 0.4, "gil": 0.6})
    # the GIL check failed (code running without the GIL): no move
    assert state_mix({}, 5.0, polls, gil_proxy=False, cpu_share=0.2) == pytest.approx(
        {"compute": 0.4, "idle": 0.6}
    )
    # alone on its CPU-starved core: runnable without the CPU is not a GIL wait
    alone = [running()] * 4 + [blocked("sleep")]
    assert state_mix({}, 5.0, alone, cpu_share=0.3) == pytest.approx({"compute": 0.8, "idle": 0.2})


def test_state_mix_leaves_the_off_cpu_polls_to_the_matched_waits() -> None:
    # half of the samples wait on a socket (frames say so), half match nothing; the polls saw the
    # thread half on a CPU, half blocked in recv: the unmatched half is the on-CPU half
    polls = [running()] * 5 + [blocked("socket")] * 5
    assert state_mix({"socket_wait": 5.0}, 10.0, polls) == pytest.approx({"compute": 1.0})
    # tokenization runs on a CPU: the unmatched samples get the blocked polls
    polls = [running()] * 4 + [blocked("sleep")] * 6
    assert state_mix({"tokenization": 4.0}, 10.0, polls) == pytest.approx({"idle": 1.0})
    # CUDA sync may be either: it takes from both parts in proportion
    polls = [running()] * 6 + [blocked("sleep")] * 4
    assert state_mix({"cuda_sync": 5.0}, 10.0, polls) == pytest.approx({"compute": 0.6, "idle": 0.4})
    # frames and polls that disagree (all samples waits, all polls running): the polls decide
    assert state_mix({"idle": 1.0}, 2.0, [running()] * 4) == pytest.approx({"compute": 1.0})


def test_attribute_states_splits_unmatched_samples_and_keeps_weights() -> None:
    rows = parse_raw(RAW, PID)
    polls = {
        (PID, PID): [running()] * 8 + [blocked("futex", other=True)] * 2,
        (PID, 4101): [running()] * 4 + [blocked("socket")] * 6,
    }
    out = attribute_states(rows, polls, {PID: True})
    assert sum(s.weight for s in out) == pytest.approx(20.0)
    by_cat: dict[str, float] = {}
    for s in out:
        by_cat[s.category] = by_cat.get(s.category, 0.0) + s.weight
    # main thread: 10 unmatched samples, 80 % on a CPU; fetcher: 6 socket waits by frames,
    # its 4 unmatched samples get the 40 % of polls on a CPU
    assert by_cat == pytest.approx({"compute": 8.0 + 4.0, "gil": 2.0, "socket_wait": 6.0})
    assert all(s.category in STACK_CATEGORIES for s in out)
    inner = [s for s in out if s.frames[0].name == "inner" and s.frames[0].line == 5]
    assert {s.category for s in inner} == {"compute", "gil"} and sum(
        s.weight for s in inner
    ) == pytest.approx(7)


def test_attribute_states_without_polls_or_gil_check() -> None:
    rows = parse_raw(RAW, PID)
    polls = {(PID, PID): [blocked("futex", other=True)] * 4}
    out = attribute_states(rows, polls, {PID: False})  # the dumps saw code running without the GIL
    main = {s.category for s in out if s.tid == PID}
    assert main == {"idle"}
    fetch = {s.category for s in out if s.tid == 4101}
    assert fetch == {"socket_wait", "compute"}  # no polls for it: compute, as the dump would say


def _dump_thread(tid: int, active: bool, owns_gil: bool) -> ThreadSample:
    return ThreadSample(PID, tid, f"t{tid}", active, owns_gil, [])


def test_gil_evidence_and_the_majority_rule() -> None:
    assert gil_evidence([_dump_thread(1, True, True), _dump_thread(2, False, False)]) == {PID: True}
    assert gil_evidence([_dump_thread(1, True, False), _dump_thread(2, False, False)]) == {PID: False}
    assert gil_evidence([_dump_thread(1, False, False)]) == {PID: None}
    assert gil_proxy_ok([]) and gil_proxy_ok([True, False]) and gil_proxy_ok([False, True, True])
    assert not gil_proxy_ok([False]) and not gil_proxy_ok([True, False, False])


# -- the weighted window ------------------------------------------------------------
def test_window_spreads_a_slice_over_its_span() -> None:
    w = StackWindow(10.0)
    slice_rows = [
        ThreadSample(PID, PID, "MainThread", None, None, [], category="compute", weight=30.0),
        ThreadSample(PID, PID, "MainThread", None, None, [], category="idle", weight=10.0),
    ]
    w.add(20.0, slice_rows, start=10.0)  # a slice sampled from t=10 to t=20
    assert w.total() == pytest.approx(40.0) and w.slices == 1 and w.dumps == 0
    w.add(21.0, [ThreadSample(PID, PID, "MainThread", True, False, [], category="idle")])  # a dump
    assert w.total() == pytest.approx(0.9 * 40.0 + 1.0)  # window 11..21: 90 % of the slice
    w.prune(25.0)  # window 15..25: half of the slice is still in it
    assert w.total() == pytest.approx(21.0)
    assert w.shares()["compute"] == pytest.approx(100.0 * 15.0 / 21.0)
    (t,) = w.threads()
    assert t["samples"] == pytest.approx(21.0) and t["category"] == "compute"
    assert t["active_pct"] == 100.0 and t["gil_pct"] == 0.0  # only the dump carries these flags
    w.prune(30.5)  # the slice is out, the dump (t=21) is still in
    assert w.total() == pytest.approx(1.0) and w.shares()["idle"] == 100.0
    w.prune(31.0)
    assert w.total() == 0 and w.shares() == {}


def test_window_top_with_fractional_weights() -> None:
    rows = attribute_states(
        parse_raw(RAW, PID),
        {(PID, PID): [running()] * 2 + [blocked("sleep")]},
    )
    w = StackWindow(60.0)
    w.add(10.0, rows, start=0.0)
    top = {t["function"]: t for t in w.top()}
    assert top["inner"]["self_pct"] == pytest.approx(50.0)  # 10 of 20 samples, however split
    assert top["inner"]["line"] == 5  # the line with most weight (7 vs 3)
    assert top["<module>"]["total_pct"] == pytest.approx(50.0) and top["<module>"]["self_pct"] == 0.0
    assert top["SocketIO.readinto"]["self_pct"] == pytest.approx(30.0)
    assert json.loads(json.dumps(w.threads())) == w.threads()
    main = next(t for t in w.threads() if t["tid"] == PID)
    assert main["leaf"].startswith("inner (/srv/app.py:5)")
