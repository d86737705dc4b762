"""A recording keeps the process table's possible culprits, not every process (issue 20's table would
otherwise add ~20 MB an hour to a recording that grows ~1.3 MB)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from perftui.core.proctable_record import DETAIL_KEY, RECORD_PERIOD_S, TOP_PER_RESOURCE, recorded_table
from perftui.samplers.proctable_sampler import ProcTableSampler
from perftui.store.metric_store import MetricStore
from perftui.store.reader import open_recording
from perftui.store.recorder import Recorder
from tests.polling import wait_for


def _row(
    pid: int, cpu: float, rss: int, disk: float | None = None, gpu: int | None = None
) -> dict[str, object]:
    return {
        "pid": pid,
        "user": "u",
        "name": f"p{pid}",
        "state": "R",
        "start_ticks": pid,
        "cpu_pct": cpu,
        "rss_bytes": rss,
        "disk_bps": disk,
        "container": "",
        "cmdline": "x" * 500,
        "gpu_mem_bytes": gpu,
        "sm_pct": None,
    }


def test_recorded_table_keeps_the_top_of_each_resource_only() -> None:
    rows = [_row(p, cpu=float(p % 50), rss=p * 1000) for p in range(1, 301)]
    rows.append(_row(999_001, cpu=0.0, rss=1, disk=5e8))
    rows.append(_row(999_002, cpu=0.0, rss=1, gpu=10**10))
    table = {"ts": 1.0, "rows": sorted(rows, key=lambda r: -float(r["cpu_pct"]))}  # type: ignore[arg-type]
    kept = recorded_table(table)
    pids = [r["pid"] for r in kept["rows"]]
    assert len(pids) <= 4 * TOP_PER_RESOURCE and len(set(pids)) == len(pids)
    assert 999_001 in pids and 999_002 in pids  # the biggest writer and the biggest GPU user
    assert 300 in pids  # the biggest resident set
    assert kept["rows"][0]["cpu_pct"] == 49.0  # still CPU order, highest first
    assert kept["of"] == 302 and all(len(r["cmdline"]) <= 120 for r in kept["rows"])
    assert recorded_table({"ts": 1.0}) == {"ts": 1.0}  # not a table: kept as it came


def test_a_recording_of_the_real_table_keeps_a_busy_process_and_stays_small(tmp_path: Path) -> None:
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        store = MetricStore(capacity=64)
        sampler = ProcTableSampler(interval=1.0)
        sampler.sample()  # primes the rates
        time.sleep(0.3)
        sampler.sample()
        store.set_detail(DETAIL_KEY, sampler.details()[DETAIL_KEY])
        live_rows = len(store.detail(DETAIL_KEY)["rows"])
        path = tmp_path / "r.sqlite"
        rec = Recorder(path, store, autoflush=False, compact_interval=3600)
        rec.start()
        store.append(time.time(), {"cpu.util": 50.0})
        assert rec.flush()
        # a changed table inside RECORD_PERIOD_S is not written again
        store.set_detail(DETAIL_KEY, {**store.detail(DETAIL_KEY), "ts": time.time() + 1})
        store.append(time.time(), {"cpu.util": 51.0})
        assert rec.flush()
        rec.close()
        with sqlite3.connect(path) as conn:
            values = [
                json.loads(v)
                for (v,) in conn.execute("SELECT value FROM details WHERE name = ?", (DETAIL_KEY,))
            ]
        assert len(values) == 1 and RECORD_PERIOD_S >= 5
        recorded = values[0]["rows"]
        assert spin.pid in [r["pid"] for r in recorded]
        assert len(recorded) <= min(live_rows, 4 * TOP_PER_RESOURCE) and values[0]["of"] == live_rows
        assert wait_for(lambda: open_recording(path).details_at().get(DETAIL_KEY) is not None, timeout=5)
    finally:
        spin.kill()
        spin.wait()
