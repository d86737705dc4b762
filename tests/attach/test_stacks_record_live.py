"""The record backend (long-lived `py-spy record` slices) against real child processes and py-spy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from attach_workloads import (
    CPU_LOOP,
    DISK_READER,
    EXIT_SOON,
    GIL_THREADS,
    PARENT_WITH_WORKERS,
    SLEEPER,
    SOCKET_CLIENT,
)
from conftest import Spawn, wait_until_blocked

from perftui.samplers.pyspy import NOT_PYTHON, PySpyError, find_py_spy
from perftui.samplers.stacks import StackSampler
from tests.polling import wait_for

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "pyspy"

pytestmark = pytest.mark.skipif(find_py_spy() is None, reason="py-spy is not installed")


Make = Callable[..., StackSampler]


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Make]:
    """Makes record-backend samplers (`sample()` adds one dump per call unless background=True);
    closes them after the test, then checks that no slice folder is left (temp files go to
    tmp_path/tmp here)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    made: list[StackSampler] = []

    def make(pid: int, **kw: object) -> StackSampler:
        kw.setdefault("background", False)
        s = StackSampler(pid, 0.5, backend="record", **kw)  # type: ignore[arg-type]
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
    assert list(tmp.iterdir()) == []


def shares_of(values: dict[str, float | None]) -> dict[str, float]:
    return {
        k.removeprefix("stack.share."): v or 0.0 for k, v in values.items() if k.startswith("stack.share.")
    }


def slice_shares(s: StackSampler, seconds: int = 3) -> dict[str, float]:
    """One dump + one record slice, then the window's shares."""
    s.record_slice(seconds)
    return shares_of(s.sample())


def dominant(shares: dict[str, float]) -> str:
    return max(shares, key=lambda k: shares[k])


def py_spy_children() -> list[psutil.Process]:
    out = []
    for c in psutil.Process().children(recursive=True):
        try:
            if c.name().startswith("py-spy"):
                out.append(c)
        except psutil.Error:
            pass
    return out


# -- categories, one slice each ------------------------------------------------
def test_cpu_loop_is_compute(spawn: Spawn, record: Make) -> None:
    p = spawn(CPU_LOOP)
    s = record(p.pid, rate=5)
    rows = s.record_slice(2)
    assert rows and all(r.pid == p.pid and r.tid == p.pid for r in rows)
    assert sum(r.weight for r in rows) >= 5  # 5/s for 2 s (py-spy samples at random intervals)
    shares = shares_of(s.sample())
    assert dominant(shares) == "compute" and shares["compute"] > 60, shares
    assert abs(sum(shares.values()) - 100.0) < 1e-6
    top = s.details()["stack.top"]
    assert top[0]["function"] == "inner" and top[0]["self_pct"] > 60
    assert top[0]["file"] == "<string>" and isinstance(top[0]["line"], int)
    threads = s.details()["stack.threads"]
    assert len(threads) == 1 and threads[0]["name"] == "MainThread" and threads[0]["tid"] == p.pid
    assert threads[0]["samples"] > 5  # the slice's samples plus the dump's one
    win = s.details()["stack.window"]
    assert win["backend"] == "record" and win["slices"] == 1 and win["dumps"] == 2  # + sample()'s
    assert json.loads(json.dumps(s.details())) == s.details()


def test_sleep_is_idle(spawn: Spawn, record: Make) -> None:
    p = spawn(SLEEPER)
    shares = slice_shares(record(p.pid))
    assert dominant(shares) == "idle" and shares["idle"] > 60, shares


def test_blocked_socket_read_is_socket_wait(spawn: Spawn, slow_server: int, record: Make) -> None:
    p = spawn(SOCKET_CLIENT, str(slow_server))
    wait_until_blocked(p.pid)
    s = record(p.pid)
    shares = slice_shares(s)
    assert dominant(shares) == "socket_wait" and shares["socket_wait"] > 60, shares
    files = {t["file"].rsplit("/", 1)[-1] for t in s.details()["stack.top"]}
    assert "socket.py" in files and "client.py" in files


def test_chunked_file_read_is_disk_read(spawn: Spawn, big_file: Path, record: Make) -> None:
    p = spawn(DISK_READER, str(big_file))
    shares = slice_shares(record(p.pid))
    assert dominant(shares) == "disk_read" and shares["disk_read"] > 50, shares


def test_gil_contention(spawn: Spawn, record: Make) -> None:
    p = spawn(GIL_THREADS)
    s = record(p.pid, rate=5)
    shares = slice_shares(s, 4)
    assert dominant(shares) == "gil" and shares["gil"] > 30, shares
    threads = s.details()["stack.threads"]
    assert len(threads) == 5 and {t["name"] for t in threads} == {"MainThread", "w0", "w1", "w2", "w3"}
    # the GIL holder rotates: each thread is waiting for it in part of its samples
    assert all(t["samples"] > 5 for t in threads)


def test_parent_alone_is_the_sleeping_parent(spawn: Spawn, record: Make) -> None:
    p = spawn(PARENT_WITH_WORKERS)
    s = record(p.pid, subprocesses=False)  # the tree is sampled by default: test_stacks_tree.py
    shares = slice_shares(s)
    assert dominant(shares) == "idle" and shares["idle"] > 60, shares
    assert {t["pid"] for t in s.details()["stack.threads"]} == {p.pid}
    assert s.backend == "record" and s.details()["stack.window"]["processes"] == 1


# -- lifecycle ------------------------------------------------------------------
def test_background_slices_then_close_leaves_nothing(spawn: Spawn, record: Make) -> None:
    p = spawn(SLEEPER)
    before = {c.pid for c in py_spy_children()}
    s = record(p.pid, rate=10, first_slice_seconds=1, slice_seconds=30, background=True)
    assert s.rate == 10.0
    s.sample()  # starts the thread: one dump at once, then a 1 s slice, then a 30 s one
    assert wait_for(lambda: bool(s.sample().get("stack.samples")), 5.0)

    def slices_in_window() -> int:
        s.sample()
        return int(s.details()["stack.window"]["slices"])

    assert wait_for(lambda: slices_in_window() >= 1, 8.0)
    assert shares_of(s.sample())["idle"] > 60
    assert wait_for(lambda: len(py_spy_children()) > len(before), 5.0)  # the 30 s slice runs
    tmpdir = s._tmpdir
    assert tmpdir is not None and os.path.isdir(tmpdir)
    recorder = [c for c in py_spy_children() if c.pid not in before]
    assert any("record" in c.cmdline() for c in recorder)
    t0 = time.monotonic()
    s.close()
    assert time.monotonic() - t0 < 3.0
    assert s._thread is not None and not s._thread.is_alive()
    assert [c for c in py_spy_children() if c.pid not in before] == []  # killed and reaped: no zombie
    for c in recorder:
        assert not psutil.pid_exists(c.pid) or psutil.Process(c.pid).status() != psutil.STATUS_ZOMBIE
    assert not os.path.exists(tmpdir) and s._tmpdir is None
    assert psutil.Process(p.pid).status() != psutil.STATUS_STOPPED  # the target runs on
    s.close()  # twice is fine


def test_close_before_start_and_record_slice_after_close(spawn: Spawn, record: Make) -> None:
    p = spawn(SLEEPER)
    s = record(p.pid, background=True)
    s.close()
    s.sample()  # does not start a thread after close()
    assert s._thread is None and s._tmpdir is None
    with pytest.raises(PySpyError):
        s.record_slice(1)
    assert py_spy_children() == []


def test_exit_mid_slice_keeps_its_samples_and_says_when_and_how(spawn: Spawn, record: Make) -> None:
    p = spawn(EXIT_SOON, "3.0")  # exits with status 3 during the second slice
    s = record(p.pid, rate=10, first_slice_seconds=1, slice_seconds=10, background=True)
    s.start()
    assert wait_for(lambda: not s.availability().available, 12.0), "the exit was not noticed"
    reason = s.availability().reason or ""
    assert reason.startswith(f"process {p.pid} exited at ") and "(status 3)" in reason and "zombie" in reason
    # the samples of the slice cut short are kept: published once, though the source is unavailable
    values = s.sample()
    assert values.get("stack.samples") and shares_of(values)["idle"] > 50, values
    win = s.details()["stack.window"]
    assert win["slices"] == 2, win
    assert s._window._entries[-1][3], "the last slice brought no samples"
    assert s.sample() == {}
    p.wait()  # reaped: now gone for good
    assert wait_for(lambda: s._stopped, 10.0)
    reason = s.availability().reason or ""
    assert reason.startswith(f"process {p.pid} exited at ") and reason.endswith("(status 3)")
    s.close()
    assert py_spy_children() == []


def test_py_spy_killed_mid_slice_is_one_error_then_it_recovers(spawn: Spawn, record: Make) -> None:
    p = spawn(CPU_LOOP)
    s = record(p.pid)
    killed: list[int] = []

    def kill_recorder() -> bool:
        for c in py_spy_children():
            try:
                if "record" in c.cmdline():
                    os.kill(c.pid, signal.SIGKILL)
                    killed.append(c.pid)
                    return True
            except (psutil.Error, ProcessLookupError):
                pass
        return False

    def killer() -> None:
        wait_for(kill_recorder, timeout=4.0, step=0.01)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    with pytest.raises(PySpyError) as err:
        s.record_slice(5)
    t.join(5)
    assert (
        killed and err.value.kind == "failed" and "exit -9" in str(err.value) and "\n" not in str(err.value)
    )
    assert psutil.Process(p.pid).status() != psutil.STATUS_STOPPED
    assert s.record_slice(1)  # and the next slice works
    assert py_spy_children() == []
    s.close()


# -- errors (fake py-spy binaries) -------------------------------------------------------
def _fake_pyspy(tmp_path: Path, record_stderr: str, record_rc: int, pid: int) -> str:
    """A py-spy whose `dump` works (one thread of `pid`) and whose `record` fails as told."""
    dump = [
        {
            "pid": pid,
            "thread_id": 1,
            "os_thread_id": pid,
            "thread_name": "MainThread",
            "active": False,
            "owns_gil": False,
            "frames": [{"name": "<module>", "filename": "/x.py", "line": 4}],
        }
    ]
    (tmp_path / "dump.json").write_text(json.dumps(dump))
    (tmp_path / "stderr.txt").write_text(record_stderr)
    script = tmp_path / "py-spy"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(tmp_path / 'argv.txt')!r}, 'a').write(repr(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1] == 'dump':\n"
        f"    print(open({str(tmp_path / 'dump.json')!r}).read())\n"
        "    sys.exit(0)\n"
        f"sys.stderr.write(open({str(tmp_path / 'stderr.txt')!r}).read())\n"
        f"sys.exit({record_rc})\n"
    )
    script.chmod(0o755)
    return str(script)


def test_record_failing_is_summarised_and_retried(spawn: Spawn, tmp_path: Path, record: Make) -> None:
    p = spawn(SLEEPER)
    fake = _fake_pyspy(tmp_path, "Error: Failed to copy PyCodeObject\n\nStack backtrace:\n  0: x\n", 1, p.pid)
    s = record(p.pid, binary=fake)
    for _ in range(3):
        with pytest.raises(PySpyError) as err:
            s.record_slice(2)
        assert not s._handle_error(err.value)  # transient: retried
    st = s.availability()
    assert not st.available and st.reason == "py-spy failed (exit 1): Failed to copy PyCodeObject"
    argv = (tmp_path / "argv.txt").read_text().splitlines()
    rec = [a for a in argv if a.startswith("['record'")]
    assert rec and all("'--nonblocking'" in a and "'--idle'" in a and "'--threads'" in a for a in rec)
    assert all(
        f"'--pid', '{p.pid}'" in a and "'--format', 'raw'" in a and "'--duration', '2'" in a for a in rec
    )
    assert s._tmpdir is None and os.listdir(tempfile.gettempdir()) == []  # each slice's folder removed


def test_record_refused_ptrace_stops_with_the_hint(spawn: Spawn, tmp_path: Path, record: Make) -> None:
    p = spawn(SLEEPER)
    fake = _fake_pyspy(tmp_path, (FIX / "err_permission.stderr").read_text(), 1, p.pid)
    s = record(p.pid, binary=fake)
    s.start()
    assert wait_for(lambda: s._stopped, 5.0)
    reason = s.availability().reason or ""
    assert "ptrace" in reason and "kernel.yama.ptrace_scope=0" in reason and "SYS_PTRACE" in reason
    s.close()


def test_record_backend_py_spy_missing_and_not_python(spawn: Spawn, record: Make) -> None:
    p = spawn(SLEEPER)
    s = record(p.pid, binary="/nonexistent/bin/py-spy")
    s.start()
    assert wait_for(lambda: s._stopped, 5.0)
    assert "pip install py-spy" in (s.availability().reason or "")
    s.close()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        s = record(sleeper.pid)
        s.start()
        assert wait_for(lambda: s._stopped, 10.0)
        assert s.availability().reason == NOT_PYTHON
        assert s.sample() == {}
        s.close()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert py_spy_children() == []
