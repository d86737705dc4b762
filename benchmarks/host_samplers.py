"""Cost of one tick of each host sampler, next to psutil's own calls for the same data.

Run: .venv/bin/python benchmarks/host_samplers.py [--runs 7] [--ticks 200]

For each sampler: the median (over --runs runs) of the mean CPU time of one
`sample()` + `details()` over --ticks ticks. The reference is what a
psutil-only monitor does for the same sources in the same run (cpu_percent
per core, virtual/swap memory, disk and NIC counters). The last line is the
share of one core the host samplers use at 1 Hz and 10 Hz.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import psutil

from perftui.samplers.host import host_samplers


def cost(fn: Callable[[], object], ticks: int) -> float:
    """Mean process CPU seconds per call (thread CPU time: immune to other load on the box)."""
    fn()
    start = time.thread_time()
    for _ in range(ticks):
        fn()
    return (time.thread_time() - start) / ticks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--ticks", type=int, default=200)
    args = ap.parse_args()

    samplers = [s for s in host_samplers(1.0) if s.availability().available]
    references: dict[str, Callable[[], object]] = {
        "psutil cpu_percent(percpu)+cpu_freq+getloadavg": lambda: (
            psutil.cpu_percent(percpu=True),
            psutil.cpu_freq(),
            psutil.getloadavg(),
        ),
        "psutil virtual_memory+swap_memory": lambda: (psutil.virtual_memory(), psutil.swap_memory()),
        "psutil disk_io_counters(perdisk)": lambda: psutil.disk_io_counters(perdisk=True),
        "psutil net_io_counters(pernic)": lambda: psutil.net_io_counters(pernic=True),
    }
    results: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for s in samplers:

            def tick(s: object = s) -> None:
                s.sample()  # type: ignore[attr-defined]
                s.details()  # type: ignore[attr-defined]

            results.setdefault(f"perftui {s.name}", []).append(cost(tick, args.ticks))
        for name, fn in references.items():
            results.setdefault(name, []).append(cost(fn, args.ticks))
    print(f"{'what':<50} {'median µs/tick':>15} {'min':>8} {'max':>8}")
    for name, vals in results.items():
        print(
            f"{name:<50} {statistics.median(vals) * 1e6:>15.0f}"
            f" {min(vals) * 1e6:>8.0f} {max(vals) * 1e6:>8.0f}"
        )
    ours = sum(statistics.median(v) for k, v in results.items() if k.startswith("perftui "))
    ref = sum(statistics.median(v) for k, v in results.items() if not k.startswith("perftui "))
    print(
        f"\nall perftui host samplers: {ours * 1e6:.0f} µs/tick;"
        f" psutil reference set: {ref * 1e6:.0f} µs/tick"
    )
    print(f"share of one core: {ours * 100:.3f} % at 1 Hz, {ours * 1000:.2f} % at 10 Hz")
    print(f"({psutil.cpu_count()} logical CPUs, psutil {psutil.__version__})")


if __name__ == "__main__":
    main()
