"""`perftui compare` does not shout noise: near-zero bases, latencies weighted by their operations,
the machine's work among the key metrics, zero counters out, the verdict's finding, HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from perftui.report.compare import MIN_OPS, compare, compare_metric
from perftui.report.render_compare import render_compare_markdown
from perftui.store.reader import Recording, open_recording
from tests.cli_run import perftui

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
N = 120


def _rec(name: str, series: dict[str, np.ndarray]) -> Recording:
    ts = 1_700_000_000.0 + np.arange(N, dtype=float)
    return Recording(
        path=Path(f"/nowhere/{name}.sqlite"),
        meta={"interval_s": 1.0, "host": "box"},
        units={},
        series={k: (ts, np.asarray(v, dtype=float)) for k, v in series.items()},
    )


def _full(value: float) -> np.ndarray:
    return np.full(N, value)


def test_no_relative_delta_on_a_near_zero_base() -> None:
    rng = np.random.default_rng(1)
    tiny = compare_metric("net.tcp.retrans_per_s", _full(0.001), _full(9.2))  # was +919900 %
    assert tiny.delta_pct is None and tiny.shown["delta_pct"] == "— (base ≈ 0)"
    assert tiny.result == "regressed"  # the change itself still counts
    noisy = compare_metric("cpu.iowait", rng.uniform(0.0, 4.0, N), rng.uniform(20.0, 30.0, N))
    assert noisy.delta_pct is not None  # 2 % median: noise is 1 pp, the base is clear of it
    within = compare_metric("psi.io.some10", np.r_[np.zeros(N // 2), np.full(N // 2, 0.6)], _full(30.0))
    assert within.delta_pct is None  # a 0.3 % median base sits inside its own noise
    fine = compare_metric("gpu.0.util", _full(50.0), _full(75.0))
    assert fine.delta_pct == 50.0 and fine.shown["delta_pct"] == "+50.0 %"


def _disk(iops: np.ndarray, await_s: np.ndarray, name: str) -> Recording:
    return _rec(
        name,
        {
            "disk.sda.read_iops": iops,
            "disk.sda.write_iops": np.zeros(N),
            "disk.sda.await_s": await_s,
            "cpu.util": _full(40.0),
        },
    )


def _await(c: object, key: str = "disk.sda.await_s"):  # type: ignore[no-untyped-def]
    return next(m for m in c.metrics if m.key == key)  # type: ignore[attr-defined]


def test_an_idle_disks_await_is_no_improvement_against_a_busy_one() -> None:
    busy = _disk(_full(14_800.0), _full(0.002), "busy")
    idle_iops = np.zeros(N)
    idle_iops[5] = 1.0  # one I/O in two minutes
    idle_await = np.zeros(N)
    idle_await[5] = 0.0001
    idle = _disk(idle_iops, idle_await, "idle")
    m = _await(compare(busy, idle))
    assert m.weighted_by == "disk.sda.read_iops + disk.sda.write_iops"
    assert m.result == "too few operations" and m.new is not None and m.new["ops"] < MIN_OPS
    assert m.key in {k.key for k in compare(busy, idle).key_metrics}
    assert compare_metric("disk.sda.await_s", _full(0.002), idle_await).result == "improved"  # unweighted


def test_await_follows_the_operations_not_the_idle_samples() -> None:
    base = _disk(_full(10_000.0), _full(0.002), "base")
    iops = np.r_[np.full(N // 2, 10_000.0), np.zeros(N // 2)]
    slow = np.r_[np.full(N // 2, 0.004), np.zeros(N // 2)]  # twice the await while busy, idle after
    m = _await(compare(base, _disk(iops, slow, "new")))
    assert m.new is not None and m.new["p50"] == 0.004 and m.new["mean"] == 0.004
    assert m.result == "regressed"  # unweighted, the idle zeros made it look unchanged or better
    assert compare_metric("disk.sda.await_s", _full(0.002), slow).result != "regressed"


def test_key_metrics_hold_cpu_and_throughput_but_not_counters_that_stayed_zero() -> None:
    base, new = open_recording(RECORDINGS / "base.sqlite"), open_recording(RECORDINGS / "new.sqlite")
    c = compare(base, new)
    keys = {m.key for m in c.key_metrics}
    assert {"cpu.util", "disk.nvme0n1.read_bytes_per_s", "net.eth0.rx_bytes_per_s"} <= keys
    assert "gpu.0.throttled" not in keys  # 0 in every sample of both runs
    assert "gpu.0.throttled" in {m.key for m in c.metrics}  # still listed among all metrics
    cpu = next(m for m in c.key_metrics if m.key == "cpu.util")
    assert cpu.better is None and cpu.result in ("unchanged", "changed")


def test_the_verdict_row_has_the_finding_and_its_confidence() -> None:
    base, new = open_recording(RECORDINGS / "base.sqlite"), open_recording(RECORDINGS / "new.sqlite")
    c = compare(base, new)
    assert c.base.dominant == "io-bound" and c.base.title and c.base.confidence in ("low", "medium", "high")
    row = next(line for line in render_compare_markdown(c).splitlines() if line.startswith("| verdict |"))
    assert c.base.title in row and f"({c.base.confidence} confidence)" in row
    assert c.new.title in row


def test_format_html_is_one_self_contained_page() -> None:
    out = perftui(
        "compare", str(RECORDINGS / "base.sqlite"), str(RECORDINGS / "new.sqlite"), "--format", "html"
    )
    assert out.returncode == 0, out.stderr
    page = out.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "<h2>Key metrics</h2>" in page and "<span class='improved'>improved</span>" in page
    assert "confidence)" in page and "cpu.util" in page
