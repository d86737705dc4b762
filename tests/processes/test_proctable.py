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
