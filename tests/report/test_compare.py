"""`perftui compare` on the two fixtures: deltas, direction, noise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from perftui.report.compare import NOISE_RULE, compare, compare_metric
from perftui.report.direction import direction
from perftui.report.render_compare import render_compare_markdown
from perftui.store.reader import open_recording

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
ROOT = Path(__file__).resolve().parents[2]


def _recs():  # type: ignore[no-untyped-def]
    return open_recording(RECORDINGS / "base.sqlite"), open_recording(RECORDINGS / "new.sqlite")


def test_direction_table() -> None:
    assert direction("gpu.3.sm_active") is not None and direction("gpu.3.sm_active")[0] == "higher"  # type: ignore[index]
    assert direction("cpu.iowait")[0] == "lower"  # type: ignore[index]
    assert direction("psi.memory.full10")[0] == "lower"  # type: ignore[index]
    assert direction("stack.share.compute")[0] == "higher"  # type: ignore[index]
    assert direction("stack.share.cuda_sync")[0] == "lower"  # type: ignore[index]
    assert direction("net.eth0.rx_bytes_per_s") is None  # more traffic is neither good nor bad


def test_fixture_comparison() -> None:
    base, new = _recs()
    c = compare(base, new)
    results = {m.key: m.result for m in c.metrics}
    assert results["gpu.0.util"] == "improved"
    assert results["gpu.0.sm_active"] == "improved"
    assert results["cpu.iowait"] == "improved"
    assert results["psi.io.some10"] == "improved"
    assert results["stack.share.dataloader"] == "improved"
    assert results["cpu.util"] == "unchanged"  # same distribution, different noise
    assert results["gpu.0.throttled"] == "unchanged"
    assert results["disk.nvme0n1.read_bytes_per_s"] == "changed"  # no better direction
    util = next(m for m in c.metrics if m.key == "gpu.0.util")
    assert util.base is not None and util.new is not None
    assert util.delta["p50"] == util.new["p50"] - util.base["p50"]
    assert util.delta_pct is not None and 50 < util.delta_pct < 65
    assert c.counts().get("regressed", 0) == 0
    md = render_compare_markdown(c)
    assert NOISE_RULE in md and "**improved**" in md and "| verdict |" in md


def test_reversed_comparison_regresses_and_self_comparison_is_unchanged() -> None:
    base, new = _recs()
    back = {m.key: m.result for m in compare(new, base).key_metrics}
    assert back["gpu.0.util"] == "regressed" and back["cpu.iowait"] == "regressed"
    same = compare(base, base)
    assert {m.result for m in same.metrics} == {"unchanged"}


def test_noise_rule() -> None:
    rng = np.random.default_rng(5)
    base = 50 + rng.normal(0, 10, 500)
    shifted = base + 2.0  # 2 pp shift in a metric whose IQR is ~13 pp: noise
    assert compare_metric("gpu.0.util", base, shifted).result == "unchanged"
    assert compare_metric("gpu.0.util", base, base + 12.0).result == "improved"
    steady = np.full(100, 1000.0)
    assert compare_metric("disk.sda.await_s", steady, steady * 1.015).result == "unchanged"  # < 2 %
    assert compare_metric("disk.sda.await_s", steady, steady * 1.05).result == "regressed"
    only = compare_metric("gpu.1.util", base, None)
    assert only.result == "only in base" and only.delta == {}


def test_cli_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perftui", "compare", str(RECORDINGS / "base.sqlite"),
         str(RECORDINGS / "new.sqlite"), "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["format"] == "perftui-compare" and data["noise_rule"] == NOISE_RULE
    assert data["summary"]["improved"] >= 5
    assert data["base"]["dominant"] and data["new"]["dominant"]
