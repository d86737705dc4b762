"""Cost of one process-table pass over the real /proc (issue 20 target: <= 5 ms for 500 processes).

Reports the median of --reps passes, the process count, and the cost per process scaled to 500.

    .venv/bin/python benchmarks/bench_proctable.py [--reps 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perftui.samplers.proctable import ProcTable


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    table = ProcTable()
    table.sample(time.monotonic())
    times: list[float] = []
    count = 0
    for _ in range(args.reps):
        t0 = time.perf_counter()
        count = len(table.sample(time.monotonic()))
        times.append(time.perf_counter() - t0)
    med = statistics.median(times) * 1000
    print(
        f"processes {count}  median pass {med:.2f} ms  per 500 processes {med / max(count, 1) * 500:.2f} ms"
    )


if __name__ == "__main__":
    main()
