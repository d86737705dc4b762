"""The stacks sampler against real child processes and the real py-spy binary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from attach_workloads import CPU_LOOP, DISK_READER, GIL_THREADS, SLEEPER, SOCKET_CLIENT
from conftest import Spawn, wait_until_blocked, wait_until_zombie

from perftui.core import details
from perftui.samplers.pyspy import NOT_PYTHON, find_py_spy
from perftui.samplers.stacks import StackSampler
from perftui.store.metric_store import MetricStore

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "pyspy"

pytestmark = pytest.mark.skipif(find_py_spy() is None, reason="py-spy is not installed")


def shares_after(sampler: StackSampler, dumps: int = 12, gap: float = 0.05) -> dict[str, float]:
    for _ in range(dumps):
        sampler.dump_once()
        time.sleep(gap)
    values = sampler.sample()
    return {k.removeprefix("stack.share."): v for k, v in values.items() if k.startswith("stack.share.")}


def dominant(shares: dict[str, float]) -> str:
    return max(shares, key=lambda k: shares[k])


def make(pid: int, **kw: object) -> StackSampler:
    return StackSampler(pid, 0.5, background=False, **kw)  # type: ignore[arg-type]


def test_cpu_loop_is_compute(spawn: Spawn) -> None:
    p = spawn(CPU_LOOP)
    s = make(p.pid)
    shares = shares_after(s)
    assert dominant(shares) == "compute" and shares["compute"] > 60, shares
    assert abs(sum(shares.values()) - 100.0) < 1e-6
    top = s.details()["stack.top"]
    assert top[0]["function"] == "inner" and top[0]["self_pct"] > 60
    assert top[0]["file"] == "<string>" and isinstance(top[0]["line"], int)
    assert any(t["function"] == "<module>" and t["total_pct"] == 100.0 for t in top)
    threads = s.details()["stack.threads"]
    assert len(threads) == 1 and threads[0]["name"] == "MainThread" and threads[0]["tid"] == p.pid
    assert json.loads(json.dumps(s.details())) == s.details()  # plain data: snapshot --json, recorder
    assert threads[0]["gil_pct"] > 50  # py-spy saw it holding the GIL in most dumps
    store = MetricStore()  # the typed readers (core/details.py) give back what was published
    for key, value in s.details().items():
        store.set_detail(key, value)
    assert details.stack_top(store) == top and details.stack_threads(store) == threads
    assert details.stack_window(store) == s.details()["stack.window"]


def test_sleep_is_idle(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    shares = shares_after(make(p.pid))
    assert dominant(shares) == "idle" and shares["idle"] > 60, shares


def test_blocked_socket_read_is_socket_wait(spawn: Spawn, slow_server: int) -> None:
    p = spawn(SOCKET_CLIENT, str(slow_server))
    wait_until_blocked(p.pid)
    s = make(p.pid)
    shares = shares_after(s)
    assert dominant(shares) == "socket_wait" and shares["socket_wait"] > 60, shares
    files = {t["file"].rsplit("/", 1)[-1] for t in s.details()["stack.top"]}
    assert "socket.py" in files and "client.py" in files


def test_chunked_file_read_is_disk_read(spawn: Spawn, big_file: Path) -> None:
    p = spawn(DISK_READER, str(big_file))
    s = make(p.pid)
    shares = shares_after(s, dumps=15)
    assert dominant(shares) == "disk_read" and shares["disk_read"] > 50, shares


def test_gil_contention(spawn: Spawn) -> None:
    p = spawn(GIL_THREADS)
    s = make(p.pid)
    shares = shares_after(s, dumps=15)
    assert dominant(shares) == "gil" and shares["gil"] > 30, shares
    threads = s.details()["stack.threads"]
    assert len(threads) == 5
    # the GIL holder rotates: no thread owns it in every sample
    assert all(t["gil_pct"] < 100 for t in threads)


# -- errors -------------------------------------------------------------------
def test_pid_that_does_not_exist() -> None:
    s = make(4_194_304 + 7)  # above any pid_max
    st = s.availability()
    assert not st.available and st.reason == f"no process with PID {4_194_304 + 7}"


def test_not_a_python_process() -> None:
    p = subprocess.Popen(["sleep", "30"])
    try:
        s = make(p.pid)
        assert s.sample() == {}
        st = s.availability()
        assert not st.available and st.reason == NOT_PYTHON
        assert s._stopped  # no retries for a permanent error
    finally:
        p.kill()
        p.wait()


def test_py_spy_missing(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    s = make(p.pid, binary="/nonexistent/bin/py-spy")
    assert s.sample() == {}
    st = s.availability()
    assert not st.available and "pip install py-spy" in (st.reason or "")


def _fake_pyspy(tmp_path: Path, stderr_text: str, rc: int) -> str:
    (tmp_path / "stderr.txt").write_text(stderr_text)
    script = tmp_path / "py-spy"
    script.write_text(f"#!/bin/sh\ncat '{tmp_path / 'stderr.txt'}' >&2\nexit {rc}\n")
    script.chmod(0o755)
    return str(script)


def test_ptrace_refused(spawn: Spawn, tmp_path: Path) -> None:
    p = spawn(SLEEPER)
    # py-spy's real message when ptrace is refused (saved from a non-root run)
    fake = _fake_pyspy(tmp_path, (FIX / "err_permission.stderr").read_text(), 1)
    s = make(p.pid, binary=fake)
    s.sample()
    st = s.availability()
    assert not st.available
    reason = st.reason or ""
    assert "ptrace" in reason and "kernel.yama.ptrace_scope=0" in reason and "SYS_PTRACE" in reason
    assert "root" in reason and "sudo" not in reason.replace("never runs sudo", "")


def test_py_spy_failing_is_summarised(spawn: Spawn, tmp_path: Path) -> None:
    p = spawn(SLEEPER)
    fake = _fake_pyspy(tmp_path, "Error: Failed to copy PyCodeObject\n\nStack backtrace:\n  0: x\n", 1)
    s = make(p.pid, binary=fake)
    for _ in range(3):
        s.sample()
    st = s.availability()
    assert not st.available
    assert st.reason == "py-spy failed (exit 1): Failed to copy PyCodeObject"
    assert not s._stopped  # transient kind: it keeps retrying


def test_exit_while_attached(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    s = make(p.pid)
    shares = shares_after(s, dumps=3)
    assert dominant(shares) == "idle"
    os.kill(p.pid, signal.SIGKILL)
    wait_until_zombie(p.pid)  # our child, not reaped yet
    assert s.sample() == {}
    st = s.availability()
    assert not st.available and "killed by signal 9" in (st.reason or "") and "zombie" in (st.reason or "")
    p.wait()
    assert s.sample() == {}
    st = s.availability()
    assert st.reason is not None
    assert st.reason.startswith(f"process {p.pid} exited at ") and st.reason.endswith("(killed by signal 9)")
    assert s._stopped
