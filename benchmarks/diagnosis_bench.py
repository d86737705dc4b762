"""Diagnosis cost: one engine pass over a 60 s window of a synthetic 8-GPU box (target < 5 ms).

Run: .venv/bin/python benchmarks/diagnosis_bench.py [--runs N]

Measured side by side in one run, medians of N runs each:
- reference: numpy median + mean of every series in the window (the floor of any pass that reads
  window statistics of every key);
- engine: `diagnose(window)` on a window already built (fresh each run: no cached statistics);
- tracker step: `DiagnosisWindow.from_store` + `diagnose`, what the dashboard does per update.
At 1 Hz (60 points per key) and 10 Hz (600 points per key).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from perftui.diagnosis.engine import diagnose
from perftui.diagnosis.rules import SIGNALS
from perftui.diagnosis.window import DiagnosisWindow
from perftui.store.metric_store import DEFAULT_CAPACITY, MetricStore

GPUS, CORES, DISKS, NICS = 8, 64, 4, 2
GPU_KEYS = {
    "util": 97.0, "mem_util": 45.0, "mem_used_bytes": 60e9, "mem_total_bytes": 80e9, "sm_clock_mhz": 1980.0,
    "mem_clock_mhz": 2619.0, "clock_event_reasons": 0.0, "throttled": 0.0, "power_w": 640.0,
    "power_limit_w": 700.0, "energy_avg_w": 638.0, "temp_c": 71.0, "fan_pct": 60.0,
    "pcie_tx_bytes_per_s": 2e9, "pcie_rx_bytes_per_s": 3e9, "nvlink_tx_bytes_per_s": 40e9,
    "nvlink_rx_bytes_per_s": 40e9, "sm_active": 88.0, "sm_occupancy": 40.0, "tensor_active": 65.0,
    "dram_bw_util": 55.0, "fp16_active": 20.0, "fp32_active": 10.0, "fp64_active": 0.0,
}  # fmt: skip


def fill_store(seconds: float, hz: float, capacity: int | None = None) -> MetricStore:
    n = int(seconds * hz)
    store = MetricStore(capacity=capacity or max(n, 16))
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 1.0, size=n)
    for t in range(n):
        ts = 1_000_000.0 + t / hz
        v: dict[str, float] = {}
        for g in range(GPUS):
            for k, base in GPU_KEYS.items():
                v[f"gpu.{g}.{k}"] = base * (1 + 0.01 * noise[t]) if base else base
        for c in range(CORES):
            v[f"cpu.core.{c}.util"] = 30.0 + 5 * noise[(t + c) % n]
        v.update({"cpu.util": 31.0, "cpu.core_max.util": 70.0, "cpu.cores": float(CORES), "cpu.iowait": 1.0,
                  "cpu.steal": 0.0, "psi.cpu.some10": 2.0, "psi.io.some10": 1.0, "psi.io.full10": 0.0,
                  "psi.memory.some10": 0.0, "psi.memory.full10": 0.0, "psi.io.some_rate": 1.0,
                  "mem.used_pct": 40.0, "mem.swap_in_bytes_per_s": 0.0, "mem.swap_out_bytes_per_s": 0.0,
                  "net.tcp.retrans_per_s": 1.0, "net.tcp.out_segs_per_s": 5000.0})  # fmt: skip
        for d in range(DISKS):
            p = f"disk.nvme{d}n1."
            v.update({p + "busy_pct": 10.0, p + "await_s": 0.0002, p + "read_bytes_per_s": 5e8,
                      p + "write_bytes_per_s": 1e7})  # fmt: skip
        for i in range(NICS):
            v.update({f"net.eth{i}.rx_bytes_per_s": 1e8, f"net.eth{i}.tx_bytes_per_s": 1e8})
        store.append(ts, v)
    for g in range(GPUS):
        store.set_detail(f"gpu.{g}.tier", "gpm")
    store.set_detail("net.nics", [{"name": f"eth{i}", "speed_bytes_per_s": 12.5e9} for i in range(NICS)])
    return store


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process, in ms. On a shared, loaded machine
    the CPU time is the fairer figure (wall time includes waiting for a core)."""
    fn()  # warm caches and imports
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def bench(hz: float, runs: int, capacity: int | None = None) -> dict[str, Any]:
    store = fill_store(60.0, hz, capacity)
    built = DiagnosisWindow.from_store(store, 60.0)
    series = built.series

    def reference() -> None:
        for arr in series.values():
            np.median(arr)
            arr.mean()

    def engine() -> None:
        diagnose(DiagnosisWindow(series=dict(series), details=dict(built.details), seconds=60.0))

    def tracker_step() -> None:
        diagnose(DiagnosisWindow.from_store(store, 60.0))

    verdict = diagnose(DiagnosisWindow.from_store(store, 60.0))[0]
    return {
        "keys": len(series),
        "points": next(iter(series.values())).size,
        "reference": median_ms(reference, runs),
        "engine": median_ms(engine, runs),
        "tracker_step": median_ms(tracker_step, runs),
        "verdict": verdict.verdict,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    print(f"8 GPUs, {CORES} cores, {DISKS} disks, {NICS} NICs; 60 s window; {len(SIGNALS)} signal patterns")
    print("median over runs, wall ms / CPU ms of this process")
    print(f"{'rate':>30} {'keys':>5} {'pts':>5} {'reference':>15} {'engine':>15} {'from_store+engine':>18}")
    for hz, cap in ((1.0, None), (10.0, None), (10.0, DEFAULT_CAPACITY)):
        r = bench(hz, args.runs, cap)
        label = f"{hz:g}Hz" + (f" (store capacity {cap})" if cap else "")
        cells = " ".join(f"{r[k][0]:>7.2f}/{r[k][1]:<7.2f}" for k in ("reference", "engine", "tracker_step"))
        print(f"{label:>30} {r['keys']:>5} {r['points']:>5} {cells}   verdict={r['verdict']}")
    print("target: engine pass < 5 ms (median)")


if __name__ == "__main__":
    main()
