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

Modes: the StackSampler with each backend (record: long-lived `py-spy record`
slices plus /proc polls; dump: `py-spy dump --json` each tick), nonblocking and
blocking, at several rates, and bare `py-spy record --format raw --idle` in 2 s
slices (py-spy alone, no parsing). `--idle-threads N` adds idle threads to the
target: py-spy samples them too (--idle) and the record backend polls them.
`--categories S` then runs the sampler modes on small workloads (a CPU loop,
time.sleep, a blocked socket read, 5 threads contending for the GIL, a 20 ms
compute / 50 ms sleep loop) for S seconds each and prints their shares side by
side, with the target's CPU share (the truth for the last one).

    .venv/bin/python benchmarks/stacks_bench.py [--pairs 6] [--phase 2] [--only TEXT|TEXT]
        [--idle-threads N] [--categories SECONDS]

The record backend starts a py-spy and a dump per slice (2 s, then 10 s): phases shorter than a
few slices measure mostly its start; the figures in stacks.py use --phase 30.
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

from perftui.samplers.pyspy import find_py_spy
from perftui.samplers.stacks import (
    DEFAULT_BACKEND,
    DEFAULT_RATE,
    DUMP_RATE,
    RECORD_RATE,
    SLICE_SECONDS,
    StackSampler,
)

TARGET = """
import mmap, struct, sys, threading, time
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 16)
for i in range(int(sys.argv[2])):  # idle threads: py-spy samples them too (--idle), perftui polls them
    threading.Thread(target=threading.Event().wait, name=f"idle{i}", daemon=True).start()
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
    def __init__(self, idle_threads: int = 0) -> None:
        fd, self.path = tempfile.mkstemp(prefix="perftui-bench-")
        os.write(fd, b"\0" * 16)
        os.close(fd)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TARGET, self.path, str(idle_threads)], stdout=subprocess.PIPE, text=True
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
def mode_sampler(
    rate: float, nonblocking: bool, backend: str = "dump"
) -> Callable[[int, threading.Event], None]:
    def run(pid: int, stop: threading.Event) -> None:
        s = StackSampler(pid, 1.0, rate=rate, nonblocking=nonblocking, backend=backend)
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


Result = tuple[float, float, float, float, float, float, float, float]


def measure(mode: Callable[[int, threading.Event], None], t: Target, pairs: int, seconds: float) -> Result:
    """Medians over on/off pairs: (wall slowdown %, min, max, per-CPU-s slowdown %,
    extra stalled time % of wall, perftui CPU % of a core: median, min, max over the "on" phases)."""
    off = [phase(None, t, seconds)]
    slow: list[float] = []
    slow_cpu: list[float] = []
    stall: list[float] = []
    cost: list[float] = []
    for _ in range(pairs):
        w0 = time.monotonic()
        on = phase(mode, t, seconds)
        cost.append(100.0 * on[3] / (time.monotonic() - w0))
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
        statistics.median(cost),
        min(cost),
        max(cost),
    )


# -- categories: each StackSampler mode on small workloads, shares side by side ----------------------
WORKLOADS: dict[str, str] = {
    "cpu loop": """
def inner(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
print("ready", flush=True)
while True:
    inner(100000)
""",
    "time.sleep": """
import time
print("ready", flush=True)
while True:
    time.sleep(0.2)
""",
    "blocked socket read": """
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
c.recv(1)
""",
    "5 threads, one GIL": """
import threading
def spin():
    s = 0
    while True:
        for i in range(10000):
            s += i
for i in range(4):
    threading.Thread(target=spin, name=f"w{i}", daemon=True).start()
print("ready", flush=True)
spin()
""",
    "compute 20 ms / sleep 50 ms": """
import time
def compute():
    s = 0
    for i in range(300000):
        s += i
print("ready", flush=True)
while True:
    compute()
    time.sleep(0.05)
""",
}


def thread_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def categories(samplers: dict[str, tuple[float, bool, str]], seconds: float) -> None:
    """Run each sampler mode for `seconds` on each workload; print its shares (>= 1 %)."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.extend(srv.accept()[0] for _ in range(64)), daemon=True).start()
    print(f"\ncategories after {seconds:g} s of sampling (shares >= 1 %; samples in the window)")
    for wname, code in WORKLOADS.items():
        proc = subprocess.Popen(
            [sys.executable, "-u", "-c", code, str(srv.getsockname()[1])], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        try:
            for mname, (rate, nonblocking, backend) in samplers.items():
                c0, w0 = thread_cpu_s(proc.pid), time.monotonic()
                s = StackSampler(proc.pid, 1.0, rate=rate, nonblocking=nonblocking, backend=backend)
                s.start()
                time.sleep(seconds)
                v = s.sample()
                s.close()
                cpu = 100.0 * (thread_cpu_s(proc.pid) - c0) / (time.monotonic() - w0)
                shares = sorted(
                    (
                        (k.removeprefix("stack.share."), x)
                        for k, x in v.items()
                        if k.startswith("stack.share.")
                    ),
                    key=lambda kv: -(kv[1] or 0.0),
                )
                text = " ".join(f"{k} {x:.0f}" for k, x in shares if x is not None and x >= 1.0)
                print(
                    f"  {wname:<28} {mname:<46} {text:<34} ({v.get('stack.samples') or 0:.0f};"
                    f" target CPU {cpu:.0f} %)"
                )
        finally:
            proc.kill()
            proc.wait()
    srv.close()
    for c in held:
        c.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=6, help="on/off phase pairs per mode")
    ap.add_argument("--phase", type=float, default=2.0, help="seconds per phase")
    ap.add_argument(
        "--only", default="", help="run only the modes whose name contains this text ('|' between choices)"
    )
    ap.add_argument(
        "--idle-threads", type=int, default=0, help="extra idle threads in the target (py-spy samples them)"
    )
    ap.add_argument(
        "--categories",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also run the sampler modes on small workloads for this long each and print their shares",
    )
    args = ap.parse_args()
    if find_py_spy() is None:
        print("py-spy not found: pip install py-spy", file=sys.stderr)
        return 2
    slices = f"{SLICE_SECONDS} s slices"
    samplers: dict[str, tuple[float, bool, str]] = {
        f"sampler: dump --json --nonblocking @ {DUMP_RATE:g}/s": (DUMP_RATE, True, "dump"),
        f"sampler: dump --json (blocking) @ {DUMP_RATE:g}/s": (DUMP_RATE, False, "dump"),
        "sampler: dump --json --nonblocking @ 2/s": (2.0, True, "dump"),
        **{
            f"sampler: record --nonblocking @ {r:g}/s, " + slices: (float(r), True, "record")
            for r in sorted({2, 5, 10, RECORD_RATE})
        },
        f"sampler: record (blocking) @ {RECORD_RATE}/s, " + slices: (float(RECORD_RATE), False, "record"),
    }
    default = (float(DEFAULT_RATE), True, DEFAULT_BACKEND)
    samplers = {(f"{k} (default)" if v == default else k): v for k, v in samplers.items()}
    modes: dict[str, Callable[[int, threading.Event], None]] = {
        "none (off vs off: the noise floor)": lambda pid, stop: None,
    }
    modes.update({k: mode_sampler(rate, nb, backend) for k, (rate, nb, backend) in samplers.items()})
    modes.update(
        {
            "record raw --idle --nonblocking @ 10/s, 2 s slices": mode_record(10, True),
            "record raw --idle (blocking) @ 10/s, 2 s slices": mode_record(10, False),
            "record raw --idle --nonblocking @ 100/s, 2 s slices": mode_record(100, True),
            "record raw --idle (blocking) @ 100/s, 2 s slices": mode_record(100, False),
        }
    )
    choices = args.only.split("|")
    modes = {k: v for k, v in modes.items() if any(c in k for c in choices) or k.startswith("none")}
    ncpu = os.cpu_count() or 1
    read_steal_share()
    t = Target(args.idle_threads)
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
    print(
        f"{ncpu} CPUs, load average {load:.1f}; {args.pairs} on/off pairs x {args.phase:g} s per mode;"
        f" target: 1 busy thread + {args.idle_threads} idle"
    )
    print(
        f"{'mode':<62} {'slowdown % wall: median [min..max]':>36} {'per CPU-s %':>12}"
        f" {'stalled %':>10} {'perftui %core: median [min..max]':>34}"
    )
    for name, (med, lo, hi, med_cpu, stall, cost, cost_lo, cost_hi) in results.items():
        print(
            f"{name:<62} {med:>+14.2f} [{lo:+6.1f} .. {hi:+6.1f}] {med_cpu:>+12.2f}"
            f" {stall:>+10.3f} {cost:>14.2f} [{cost_lo:5.2f} .. {cost_hi:5.2f}]"
        )
    steal = read_steal_share()
    if steal is not None:
        print(f"CPU steal while measuring: {steal:.1f} % (a VM's noisy neighbours widen the wall figures)")
    if args.categories > 0:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(ncpu)))
        categories({k: v for k, v in samplers.items() if any(c in k for c in choices)}, args.categories)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
