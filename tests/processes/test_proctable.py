"""The process table against real processes the test starts."""

from __future__ import annotations

import subprocess
import sys
import time

from perftui.samplers.proctable import ProcTable, start_ticks
from tests.polling import wait_for

SPIN = "import time\nwhile True:\n    pass\n"


def test_spinner_tops_the_cpu_list_and_goes_when_it_exits() -> None:
    child = subprocess.Popen([sys.executable, "-c", SPIN, "api_key=hunter2"])
    try:
        table = ProcTable()
        table.sample(time.monotonic())

        def top_is_child() -> bool:
            rows = sorted(table.sample(time.monotonic()), key=lambda r: -r.cpu_pct)
            mine = [r for r in rows if r.pid == child.pid]
            return bool(mine) and mine[0].cpu_pct > 30.0 and rows[0].cpu_pct >= 30.0

        assert wait_for(top_is_child, timeout=10.0, step=0.3)
        row = next(r for r in table.sample(time.monotonic()) if r.pid == child.pid)
        assert row.rss_bytes > 0 and row.state in "RSD"
        assert "hunter2" not in row.cmdline
        assert start_ticks(child.pid) == row.start_ticks
    finally:
        child.kill()
        child.wait()
    assert all(r.pid != child.pid for r in table.sample(time.monotonic()))
    assert start_ticks(child.pid) is None


def test_a_sleeper_that_starts_writing_is_read_again(tmp_path: object) -> None:
    """Sleepers with no CPU time and no I/O since the last pass skip /proc/PID/io; waking up to write
    costs CPU time, so the next pass reads the counters again and shows the traffic."""
    from pathlib import Path

    out = Path(str(tmp_path)) / "w.bin"
    code = (
        "import os, sys, time\n"
        "time.sleep(1.5)\n"  # a few passes asleep: skipped
        "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)\n"
        "for _ in range(40):\n"
        "    os.write(fd, b'x' * (1 << 20)); os.fsync(fd)\n"
        "time.sleep(30)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(out)])
    try:
        table = ProcTable()
        seen: list[float] = []

        def wrote() -> bool:
            rows = {r.pid: r for r in table.sample(time.time())}
            row = rows.get(child.pid)
            if row is not None and row.disk_bps:
                seen.append(row.disk_bps)
            return bool(seen) and out.exists() and out.stat().st_size >= 40 << 20

        assert wait_for(wrote, timeout=30, step=0.2), "the writer's traffic never showed"
        assert max(seen) > 1e6
    finally:
        child.kill()
        child.wait()
