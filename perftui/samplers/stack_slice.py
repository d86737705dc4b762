"""One record slice of the stacks sampler: its `py-spy record` processes and their folder.

A slice is one `py-spy record --format raw --threads --idle --full-filenames --nonblocking --rate R
--duration S` per sampled process (the attached one, and each Python process of its tree: see
`perftui.samplers.stack_tree`), all started together in one temporary folder that the slice removes
when it ends (and `StackSampler.close()` if it is still there). `RecordSlice` starts them, wakes as
soon as one ends (`wait`: a pidfd per process where Linux has them), kills and reaps them, and reads
their output (`SliceOutput`). The sampler polls the threads' /proc state between the waits and
parses the output (`perftui.samplers.stacks`).

Why one py-spy per process and not py-spy's own `--subprocesses`: measured on the 2-core VM (py-spy
0.4.3, 2 samples/s, 10 s slices, CPU of py-spy itself in % of one core, two runs each): a lone
sleeping process 0.50..1.52 plain vs 3.68..4.13 with `--subprocesses` (py-spy rescans /proc for
children ten times a second, whether there are any or not); a parent with 3 busy workers
0.51..0.72 for the parent alone, 2.32..4.54 for the tree with `--subprocesses`. A py-spy per
process costs about what the plain one does, per process: nothing more while there are no
children. (`py-spy dump --json --subprocesses` lists the parent's threads only.) With the real
sampler (1 s ticks, 32 s, one run each at load 2, so noisy): a lone sleeper 2.25 % of a core for
perftui + py-spy with the tree on, 2.59 % with it off; a parent + 3 busy workers 3.26 %, 4
processes sampled (`tests/attach/test_stacks_tree.py` checks what they show).

The choice of "record" over "dump", measured on the same VM (AMD EPYC, Python 3.11, py-spy
0.4.3), `benchmarks/stacks_bench.py --pairs 4 --phase 30`: perftui's CPU including
its py-spy children, in % of one core, median [min..max] of the 30 s "on" phases, side by side in
one run (each phase starts a fresh sampler, so its start is included):

    target: one CPU-bound thread        run 1              run 2 (load 2: another benchmark ran)
    record, 2 samples/s (default)       0.56 [0.46..0.66]  0.54 [0.36..0.63]
    record, 5 samples/s                 -                  0.78 [0.69..0.82]
    dump, one every 2 s (until now)     0.99 [0.92..1.06]  0.96 [0.89..1.02]
    same with 4 idle threads more (--idle-threads 4, 3 pairs): record 2/s 0.82 [0.66..0.82],
    record 5/s 1.29 [1.12..1.32], dump 1.15 [1.09..1.22]; with 20 more (60 s, once): 1.46 vs 1.88.

The target's slowdown stayed within the noise for every mode (wall medians -11.4..+5.9 % over the
three runs, the off-vs-off noise floor's -2.7..+6.0 % with spreads up to 31 points; extra stalled
time at most +0.15 % of wall, the noise floor's own up to +4.3 %).

Categories (`--categories 30`, run 1, record 2/s vs dump): a CPU loop, time.sleep and a blocked
socket read the same (100 % compute / idle / socket_wait); 5 threads on one GIL gil 80 compute 20
vs gil 70 compute 26 idle 4 (each thread had 20 % of a CPU: 80/20 is right); a 20 ms compute /
50 ms sleep loop (27 % CPU) compute 30 vs 50 (on 10 dumps). tests/attach/test_stacks_record_live.py
checks the dominant category of the record backend on the first four, a disk reader and a parent
with worker processes sampled alone (test_stacks_live.py the dump's).
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from perftui.samplers.pyspy import INSTALL_HINT, PySpyError
from perftui.samplers.thread_state import ReadHistory, ThreadPoll, poll_round

Polls = dict[tuple[int, int], list[ThreadPoll]]


def record_args(binary: str, pid: int, rate: float, seconds: int, out: str, nonblocking: bool) -> list[str]:
    args = [binary, "record", "--pid", str(pid), "--format", "raw", "--threads", "--idle"]
    args += ["--full-filenames", "--rate", str(int(rate)), "--duration", str(seconds), "-o", out]
    if nonblocking:
        args.append("--nonblocking")
    return args


@dataclass(frozen=True)
class SliceOutput:
    """What one py-spy of a slice left: its exit status, its raw output, its stderr + stdout."""

    pid: int
    returncode: int
    text: str
    log: str


class RecordSlice:
    """The `py-spy record` processes of one slice, one per PID, in one temporary folder.

    `start` raises PySpyError when the first PID's py-spy cannot be started (the attached process:
    the sampler's error); another PID's is left out of the slice. Thread-safe `kill` (close()).
    """

    def __init__(self, binary: str, pids: list[int], seconds: int, rate: float, nonblocking: bool) -> None:
        self.binary = binary
        self.pids = pids
        self.seconds = seconds
        self.rate = rate
        self.nonblocking = nonblocking
        self.folder: str | None = tempfile.mkdtemp(prefix="perftui-stacks-")
        self._lock = threading.Lock()
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._waiters: dict[int, int] = {}  # pid -> a pidfd of its py-spy
        self._rng = random.Random()

    def _paths(self, pid: int) -> tuple[str, str, str]:
        assert self.folder is not None
        base = os.path.join(self.folder, str(pid))
        return base + ".txt", base + ".out", base + ".err"

    def start(self) -> bool:
        """Start a py-spy per PID; False when the folder was removed meanwhile (close())."""
        for i, pid in enumerate(self.pids):
            if self.folder is None or not os.path.isdir(self.folder):
                return False
            out, log_out, log_err = self._paths(pid)
            try:
                with open(log_out, "wb") as stdout, open(log_err, "wb") as stderr:
                    proc = subprocess.Popen(
                        record_args(self.binary, pid, self.rate, self.seconds, out, self.nonblocking),
                        stdin=subprocess.DEVNULL,
                        stdout=stdout,
                        stderr=stderr,
                        close_fds=True,
                    )
            except FileNotFoundError as exc:
                if self.folder is None or not os.path.isdir(self.folder):  # close() removed it
                    return False
                if i == 0:
                    raise PySpyError(f"py-spy not found at {self.binary}: {INSTALL_HINT}", "missing") from exc
                continue
            except OSError as exc:
                if i == 0:
                    raise PySpyError(
                        f"py-spy at {self.binary} cannot be executed ({exc})", "missing"
                    ) from exc
                continue
            with self._lock:
                self._procs[pid] = proc
            fd = _exit_waiter(proc)
            if fd is not None:
                self._waiters[pid] = fd
        return True

    def running(self) -> bool:
        with self._lock:
            procs = list(self._procs.values())
        return any(p.poll() is None for p in procs)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Sleep up to `seconds`, waking when a py-spy of the slice ends (or `stop` is set, where
        there are no pidfds)."""
        with self._lock:
            fds = [fd for pid, fd in self._waiters.items() if self._procs[pid].poll() is None]
        if fds:  # the running ones only: one that ended early (its process exited) is readable
            select.select(fds, [], [], seconds)
        else:
            stop.wait(seconds)

    def poll_threads(
        self,
        keys: list[tuple[int, int]],
        proc_root: str,
        reads: ReadHistory,
        stop: threading.Event,
        clock: Callable[[], float],
    ) -> tuple[Polls, float, float]:
        """Poll the threads `keys` at random intervals (mean 1/rate, as py-spy samples: no aliasing
        with a periodic workload) until every py-spy of the slice ends, or `stop`; then reap them
        (also on a hang). Returns the polls and the slice's span on `clock`."""
        polls: Polls = {}
        t0 = clock()
        deadline = time.monotonic() + 2.0 * self.seconds + 10.0
        try:
            if stop.is_set():
                return polls, t0, t0
            while self.running():
                if stop.is_set():
                    return polls, t0, clock()
                if time.monotonic() > deadline:
                    raise PySpyError(f"py-spy record did not finish a {self.seconds} s slice", "failed")
                for key, p in poll_round(keys, proc_root, reads).items():
                    polls.setdefault(key, []).append(p)
                self.wait(min(3.0, max(0.1, self._rng.expovariate(1.0))) / self.rate, stop)
            return polls, t0, clock()
        finally:
            self.reap()
            if len(reads) > 4096:
                reads.clear()

    def kill(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.kill()

    def reap(self) -> None:
        """Kill what still runs, wait for every py-spy, close the pidfds."""
        self.kill()
        with self._lock:
            procs = list(self._procs.values())
            fds = list(self._waiters.values())
            self._waiters.clear()
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        for proc in procs:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.wait(timeout=5.0)

    def outputs(self) -> list[SliceOutput]:
        """The output of each py-spy started, in the order of `pids` (after `reap`)."""
        out: list[SliceOutput] = []
        for pid in self.pids:
            with self._lock:
                proc = self._procs.get(pid)
            if proc is None or proc.returncode is None:
                continue
            text, log_out, log_err = (_text(p) for p in self._paths(pid))
            out.append(SliceOutput(pid, proc.returncode, text, log_err + log_out))
        return out

    def remove(self) -> None:
        folder, self.folder = self.folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _exit_waiter(proc: subprocess.Popen[bytes]) -> int | None:
    """A pidfd that turns readable when `proc` exits (Linux >= 5.3); None where there is none."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(proc.pid))
    except OSError:
        return None


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""
