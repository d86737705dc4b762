"""A real process in I/O wait, read by the real process table over this machine's /proc: a writer moves
the bytes, a second process fsyncs one byte at a time (few bytes, much of its time in state D). The
state is an instant, so the test samples until a table catches the fsyncer blocked."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from perftui.diagnosis.model import Finding
from perftui.samplers.proctable import ProcTable
from tests.diagnosis.windows import findings, host
from tests.polling import wait_for

WRITER = """
import os, sys, time
buf = b"x" * (4 << 20)
while True:
    with open(sys.argv[1], "wb") as f:
        f.write(buf)
        f.flush()
        os.fsync(f.fileno())
    time.sleep(0.05)
"""
FSYNCER = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
while True:
    os.pwrite(fd, b"x", 0)
    os.fsync(fd)
    time.sleep(0.002)  # <= 500 fsyncs/s: ~2 MB/s at most, a few % of the writer's traffic
"""


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[tuple[int, int]]:
    started = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / name)])
        for code, name in ((WRITER, "big.bin"), (FSYNCER, "small.bin"))
    ]
    yield started[0].pid, started[1].pid
    for p in started:
        p.kill()
        p.wait()


def test_io_bound_names_a_real_process_blocked_in_io_wait(procs: tuple[int, int]) -> None:
    writer, fsyncer = procs
    table = ProcTable()
    last = [time.monotonic()]
    table.sample(last[0])
    seen: list[Finding] = []
    previous: list[dict[str, Any]] = []

    def named() -> bool:
        now = time.monotonic()
        if now - last[0] < 0.3:
            return False
        rows = sorted(table.sample(now), key=lambda r: -r.cpu_pct)
        last[0] = now
        detail: dict[str, Any] = {"ts": time.time(), "rows": [asdict(r) for r in rows]}
        # the window's oldest table too, as live diagnosis has it: blocked then or now
        f = findings(
            host(psi__io__some10=30),
            {"proctable": detail, "proctable.first": previous[0] if previous else None},
        )[0]
        previous[:] = [detail]
        seen[:] = [f]
        return any(c.pid == fsyncer and c.resource == "iowait" for c in f.culprits)

    assert wait_for(named, timeout=40.0), f"the fsyncer was never seen in I/O wait: {seen}"
    f = seen[0]
    assert f.rule == "host.io_pressure"
    assert "in I/O wait: " in f.evidence[1] and f"(PID {fsyncer}, Python)" in f.evidence[1]
    movers = [c.pid for c in f.culprits if c.resource == "disk"]
    assert fsyncer not in movers  # a few kB/s of its own: blocked, not moving the bytes
    if writer in movers:  # when its last second held a write (it sleeps between them); another process
        # of the machine may write more in that second (seen: a PID writing during the test suite)
        assert f.evidence[1].index(f"PID {writer}") < f.evidence[1].index("I/O wait")
