"""Cost of one process-table pass over the real /proc (issue 20 target: <= 5 ms for 500 processes).

`--processes N` first tops the box up to N processes with real sleeping children (`sleep`, ended
before it exits), so the pass reads N real /proc entries instead of scaling a smaller count. Two
figures, both the CPU time of the pass (`time.thread_time`), medians of --reps passes:

- back to back: the passes run one after the other (caches warm);
- at the dashboard's cadence: each pass after a --gap s sleep, as the sampler runs it (on a VM the
  kernel's per-process structures are cold again by then, and that can cost several times more).

The whole sampler pass (`ProcTableSampler.sample`: sort and the published rows) is timed too.

    .venv/bin/python benchmarks/bench_proctable.py [--processes 500] [--reps 30] [--gap 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perftui.samplers.proctable import ProcTable
from perftui.samplers.proctable_sampler import ProcTableSampler

MAX_SPAWN = 2000  # bounded: never more sleepers than this


def count_processes() -> int:
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


def spawn_sleepers(target: int) -> list[subprocess.Popen[bytes]]:
    sleep = shutil.which("sleep") or "/bin/sleep"
    need = min(MAX_SPAWN, max(0, target - count_processes()))
    return [subprocess.Popen([sleep, "600"], stdin=subprocess.DEVNULL) for _ in range(need)]


def timed(fn: Callable[[], object], reps: int, gap: float) -> float:
    """Median CPU ms of `fn` over `reps` calls, each after a `gap` s sleep (0: back to back)."""
    fn()
    times: list[float] = []
    for _ in range(reps):
        if gap > 0:
            time.sleep(gap)
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=500, help="top the box up to this many (0: as is)")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--gap", type=float, default=2.0, help="seconds between passes at the cadence")
    args = ap.parse_args()
    kids = spawn_sleepers(args.processes)
    try:
        table = ProcTable()
        table.sample(time.monotonic())
        count = len(table.sample(time.monotonic()))
        warm = timed(lambda: table.sample(time.monotonic()), args.reps, 0.0)
        sampler = ProcTableSampler(1.0)
        warm_sampler = timed(sampler.sample, args.reps, 0.0)
        cold_n = max(3, args.reps // 3)
        cold = timed(lambda: table.sample(time.monotonic()), cold_n, args.gap)
        cold_sampler = timed(sampler.sample, cold_n, args.gap)
    finally:
        for kid in kids:
            kid.kill()
        for kid in kids:
            kid.wait()
    print(f"processes {count} (sleepers added: {len(kids)})")
    print(f"table pass, back to back:        {warm:.2f} ms CPU (median of {args.reps})")
    print(f"sampler pass, back to back:      {warm_sampler:.2f} ms CPU")
    print(f"table pass, every {args.gap:g} s:          {cold:.2f} ms CPU (median of {cold_n})")
    print(f"sampler pass, every {args.gap:g} s:        {cold_sampler:.2f} ms CPU")


if __name__ == "__main__":
    main()
