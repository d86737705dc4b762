"""How much does stack sampling slow a CPU-bound Python target, and what does it cost perftui?

One CPU-bound target is pinned to the last CPU; this script and its py-spy
children run on the others (as on any multi-core box, where py-spy does not
share the target's core). Phases with and without sampling alternate
(off, on, off, on, ... each `--phase` seconds, same target, same run); the
slowdown of an "on" phase is 1 - its iterations/s over the mean of the two
"off" phases around it, and the figure reported is the median over phases.
On a VM whose host steals CPU time the wall figure is noisy, so the slowdown
is also given per CPU-second of the target (iterations per second the target
actually ran, /proc/PID/schedstat): that one excludes steal and preemption, and
also the time a blocking py-spy keeps the target stopped, which is why the
nonblocking mode is the default. "stalled %" measures that stop directly: the
target watches its own loop for gaps over 60 us (stopped by ptrace, or
preempted) and the column is the extra share of wall time lost to such gaps
while sampling, relative to the phases around it: the pause cost, free of the
CPU-speed noise.
perftui's cost is the CPU time of this process (the sampler thread: /proc
reads, parsing, aggregation) plus its py-spy children per second of wall
time, in % of one core.

Modes: the StackSampler as shipped (py-spy dump --json, nonblocking, at the
default rate and others), dump in blocking mode, and `py-spy record --format raw
--idle` in 2 s slices at several rates, blocking and nonblocking.

    .venv/bin/python benchmarks/stacks_bench.py [--pairs 6] [--phase 2]
"""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

from perftui.samplers.stacks import DEFAULT_RATE, StackSampler, find_py_spy

TARGET = """
import mmap, struct, sys, time
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 16)
n = 0
stalled = 0
clock = time.perf_counter_ns
def step():
    s = 0
    for i in range(300):
        s += i * i
    return s
print("ready", flush=True)
last = clock()
while True:
    step()  # ~15 us of pure-Python work
    now = clock()
    if now - last > 60_000:  # a gap of more than 60 us: the target was stopped or preempted
        stalled += now - last
    last = now
    n += 1
    if n % 64 == 0:
        m[0:16] = struct.pack("QQ", n, stalled)
"""


class Target:
    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="perftui-bench-")
        os.write(fd, b"\0" * 16)
        os.close(fd)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TARGET, self.path], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"
        self._f = open(self.path, "rb")  # noqa: SIM115 - closed in stop()
        self._m = mmap.mmap(self._f.fileno(), 16, access=mmap.ACCESS_READ)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def count(self) -> int:
        return int(struct.unpack("Q", self._m[0:8])[0])

    def stalled_ns(self) -> int:
        """Sum of the gaps (> 60 us) the target saw in its own loop: stopped or preempted."""
        return int(struct.unpack("Q", self._m[8:16])[0])

    def cpu_ns(self) -> int:
        """Nanoseconds the target has run on a CPU (/proc/PID/schedstat field 1)."""
        with open(f"/proc/{self.pid}/schedstat") as f:
            return int(f.read().split()[0])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._m.close()
        self._f.close()
        os.unlink(self.path)


_STEAL0: list[int] = []


def _cpu_line() -> list[int]:
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def read_steal_share() -> float | None:
    """Steal time since the first call, in % of all CPU time (None before the first call)."""
    now = _cpu_line()
    if not _STEAL0:
        _STEAL0.extend(now)
        return None
    delta = [a - b for a, b in zip(now, _STEAL0, strict=False)]
    total = sum(delta[:8])
    return 100.0 * delta[7] / total if total > 0 and len(delta) > 7 else None


def cpu_self_and_children() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# -- sampling modes: each runs until `stop` is set --------------------------------
def mode_sampler(rate: float, nonblocking: bool) -> Callable[[int, threading.Event], None]:
    def run(pid: int, stop: threading.Event) -> None:
        s = StackSampler(pid, 1.0, rate=rate, nonblocking=nonblocking)
        s.start()
        while not stop.wait(1.0):
            s.sample()
        s.close()

    return run


def mode_record(rate: int, nonblocking: bool, slice_s: int = 2) -> Callable[[int, threading.Event], None]:
    binary = find_py_spy()
    assert binary is not None

    def run(pid: int, stop: threading.Event) -> None:
        out = tempfile.mktemp(prefix="perftui-bench-rec-")
        while not stop.is_set():
            args = [binary, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate)]
            args += ["--duration", str(slice_s), "--idle", "-o", out]
            if nonblocking:
                args.append("--nonblocking")
            subprocess.run(args, capture_output=True, check=False)
        if os.path.exists(out):
            os.unlink(out)

    return run


def phase(
    mode: Callable[[int, threading.Event], None] | None, t: Target, seconds: float
) -> tuple[float, float, float, float]:
    """(iterations per wall second, per CPU second, stalled fraction, perftui CPU seconds) of one phase."""
    stop = threading.Event()
    th = None
    c0 = cpu_self_and_children()
    if mode is not None:
        th = threading.Thread(target=mode, args=(t.pid, stop), daemon=True)
        th.start()
        time.sleep(0.3)  # let the first py-spy attach
    n0, t0, r0, s0 = t.count(), time.monotonic(), t.cpu_ns(), t.stalled_ns()
    time.sleep(seconds)
    n1, t1, r1, s1 = t.count(), time.monotonic(), t.cpu_ns(), t.stalled_ns()
    stop.set()
    if th is not None:
        th.join()
    wall = t1 - t0
    per_cpu = (n1 - n0) / max(1e-9, (r1 - r0) / 1e9)
    return (n1 - n0) / wall, per_cpu, (s1 - s0) / 1e9 / wall, cpu_self_and_children() - c0


Result = tuple[float, float, float, float, float, float]


def measure(mode: Callable[[int, threading.Event], None], t: Target, pairs: int, seconds: float) -> Result:
    """Medians over on/off pairs: (wall slowdown %, min, max, per-CPU-s slowdown %,
    extra stalled time % of wall, perftui CPU % of a core)."""
    off = [phase(None, t, seconds)]
    slow: list[float] = []
    slow_cpu: list[float] = []
    stall: list[float] = []
    cpu = wall = 0.0
    for _ in range(pairs):
        w0 = time.monotonic()
        on = phase(mode, t, seconds)
        wall += time.monotonic() - w0
        cpu += on[3]
        off.append(phase(None, t, seconds))
        a, b = off[-2], off[-1]
        slow.append(100.0 * (1.0 - on[0] / ((a[0] + b[0]) / 2)))
        slow_cpu.append(100.0 * (1.0 - on[1] / ((a[1] + b[1]) / 2)))
        stall.append(100.0 * (on[2] - (a[2] + b[2]) / 2))
    return (
        statistics.median(slow),
        min(slow),
        max(slow),
        statistics.median(slow_cpu),
        statistics.median(stall),
        100.0 * cpu / wall,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=6, help="on/off phase pairs per mode")
    ap.add_argument("--phase", type=float, default=2.0, help="seconds per phase")
    ap.add_argument("--only", default="", help="run only the modes whose name contains this text")
    args = ap.parse_args()
    if find_py_spy() is None:
        print("py-spy not found: pip install py-spy", file=sys.stderr)
        return 2
    modes: dict[str, Callable[[int, threading.Event], None]] = {
        "none (off vs off: the noise floor)": lambda pid, stop: None,
        f"sampler: dump --json --nonblocking @ {DEFAULT_RATE:g}/s (default)": mode_sampler(
            DEFAULT_RATE, True
        ),
        f"sampler: dump --json (blocking) @ {DEFAULT_RATE:g}/s": mode_sampler(DEFAULT_RATE, False),
        "sampler: dump --json --nonblocking @ 2/s": mode_sampler(2.0, True),
        "sampler: dump --json --nonblocking @ 5/s": mode_sampler(5.0, True),
        "sampler: dump --json (blocking) @ 5/s": mode_sampler(5.0, False),
        "record raw --idle --nonblocking @ 10/s, 2 s slices": mode_record(10, True),
        "record raw --idle (blocking) @ 10/s, 2 s slices": mode_record(10, False),
        "record raw --idle --nonblocking @ 100/s, 2 s slices": mode_record(100, True),
        "record raw --idle (blocking) @ 100/s, 2 s slices": mode_record(100, False),
    }
    modes = {k: v for k, v in modes.items() if args.only in k or k.startswith("none")}
    ncpu = os.cpu_count() or 1
    read_steal_share()
    t = Target()
    if ncpu >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(t.pid, {ncpu - 1})
        os.sched_setaffinity(0, set(range(ncpu - 1)))
    results: dict[str, Result] = {}
    try:
        for name, mode in modes.items():
            results[name] = measure(mode, t, args.pairs, args.phase)
    finally:
        t.stop()
    load = os.getloadavg()[0]
    print(f"{ncpu} CPUs, load average {load:.1f}; {args.pairs} on/off pairs x {args.phase:g} s per mode")
    print(
        f"{'mode':<54} {'slowdown % wall: median [min..max]':>36} {'per CPU-s %':>12}"
        f" {'stalled %':>10} {'perftui %core':>14}"
    )
    for name, (med, lo, hi, med_cpu, stall, cost) in results.items():
        print(
            f"{name:<54} {med:>+14.2f} [{lo:+6.1f} .. {hi:+6.1f}] {med_cpu:>+12.2f}"
            f" {stall:>+10.3f} {cost:>14.2f}"
        )
    steal = read_steal_share()
    if steal is not None:
        print(f"CPU steal while measuring: {steal:.1f} % (a VM's noisy neighbours widen the wall figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
