"""py-spy killed in the middle of a dump: one clear error, the target keeps running, sampling recovers.

The other process rows of the fault matrix (attached PID exits, PID reused, zombie, another user's
process) are covered in tests/attach; see the fault matrix in the README.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import psutil
import pytest

from perftui.samplers.pyspy import PySpyError, find_py_spy, run_dump
from perftui.samplers.stacks import StackSampler
from tests.polling import wait_for

PY_SPY = find_py_spy()
pytestmark = pytest.mark.skipif(PY_SPY is None, reason="py-spy is not installed")

BUSY = "import time\nprint('ready', flush=True)\nwhile True:\n    sum(range(10000))\n"


@pytest.fixture
def target() -> Iterator[subprocess.Popen[str]]:
    p = subprocess.Popen([sys.executable, "-u", "-c", BUSY], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    yield p
    p.kill()
    p.wait(timeout=10)
    p.stdout.close()


class PySpyKiller:
    """SIGKILLs every py-spy this process starts, as soon as it shows up."""

    def __init__(self) -> None:
        self.killed: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self.stop.is_set():
            for child in me.children():
                try:
                    if child.name().startswith("py-spy"):
                        os.kill(child.pid, signal.SIGKILL)
                        self.killed.append(child.pid)
                except (psutil.Error, ProcessLookupError):
                    pass
            self.stop.wait(0.0005)  # hunting a short-lived child: as often as possible, stops at once

    def __enter__(self) -> PySpyKiller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.mark.parametrize("nonblocking", [True, False], ids=["nonblocking", "blocking"])
def test_py_spy_killed_mid_dump_is_one_error_and_the_target_survives(
    target: subprocess.Popen[str], nonblocking: bool
) -> None:
    assert PY_SPY is not None
    errors: list[PySpyError] = []
    with PySpyKiller() as killer:
        for _ in range(30):
            try:
                run_dump(PY_SPY, target.pid, nonblocking=nonblocking)
            except PySpyError as exc:
                errors.append(exc)
            if killer.killed and errors:
                break
    assert killer.killed, "the killer never caught a py-spy (dumps too fast on this machine?)"
    assert errors and all(e.kind == "failed" and "\n" not in str(e) for e in errors)
    assert any("exit -9" in str(e) for e in errors), [str(e) for e in errors]
    # the target was not left stopped by a tracer that died while attached
    proc = psutil.Process(target.pid)
    before = sum(proc.cpu_times()[:2])
    assert wait_for(lambda: sum(proc.cpu_times()[:2]) > before), "the target does not run"
    assert proc.status() != psutil.STATUS_STOPPED
    assert run_dump(PY_SPY, target.pid, nonblocking=nonblocking)  # and a new dump works


def test_stack_sampler_recovers_after_py_spy_is_killed(target: subprocess.Popen[str]) -> None:
    sampler = StackSampler(target.pid, 1.0, background=False)
    assert sampler.availability().available
    with PySpyKiller() as killer:
        for _ in range(30):
            sampler.sample()
            if killer.killed and sampler.last_error is not None:
                break
    assert killer.killed and sampler.last_error is not None
    assert "exit -9" in str(sampler.last_error)
    for _ in range(3):
        sampler.sample()
    assert sampler.availability().available, sampler.availability().reason
    assert sampler.sample().get("stack.samples")
    sampler.close()
