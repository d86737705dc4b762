"""The fixed CPU-bound job whose slowdown is the observer effect: one busy process per CPU.

Each child times its own loop (so interpreter start-up is not part of the figure) and prints the
seconds; the job's time is the slowest child's. With every CPU busy, any CPU a monitor takes comes
out of the job: the slowdown against no monitor, measured back to back, is its observer effect.
"""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import sys, time
n = int(sys.argv[1])
t = time.perf_counter()
s = 0
for i in range(n):
    s += i * i % 7
print(time.perf_counter() - t, flush=True)
"""


def parse_child_times(outputs: list[str]) -> float:
    """The job's time: the slowest child's printed seconds."""
    times = [float(o.strip().splitlines()[-1]) for o in outputs]
    if not times:
        raise ValueError("no child output")
    return max(times)


def run_job(iterations: int, procs: int | None = None) -> float:
    procs = procs or os.cpu_count() or 1
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(iterations)], stdout=subprocess.PIPE, text=True)
        for _ in range(procs)
    ]
    outputs = [c.communicate()[0] for c in children]
    for c in children:
        if c.returncode != 0:
            raise RuntimeError(f"workload child exited {c.returncode}")
    return parse_child_times(outputs)


def calibrate(target_s: float = 2.0) -> int:
    """Iterations for which one child's loop takes about `target_s` (measured once, one process)."""
    probe = 1_000_000
    t = run_job(probe, 1)
    return max(probe, int(probe * target_s / max(t, 1e-3)))
