"""A short run of benchmarks/bench_probe.py: the server child, the timing points, the JSON it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_probe_smoke() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_probe.py"), "--rates", "200", "--seconds", "0.6",
         "--warmup", "0.2", "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)["rows"][0]
    assert row["errors"] == 0 and 100 <= row["requests"] <= 140
    # a smoke run, not a speed check (that is the benchmark's table): the schedule was followed at all
    assert row["achieved_rps"] > 100
    # every timing point was captured: overheads are positive and below the whole latency
    assert 0 < row["send_overhead_p50_ms"] < row["latency_p50_ms"]
    assert 0 < row["recv_overhead_p50_ms"] < row["latency_p50_ms"]
