"""The "stacks" sampler: Python stacks of an attached process via the py-spy binary.

Two backends. "record" is the default, chosen by measurement on the 2-core VM (AMD EPYC, Python
3.11, py-spy 0.4.3), `benchmarks/stacks_bench.py --pairs 4 --phase 30`: perftui's CPU including
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
with worker processes (test_stacks_live.py the dump's).

record: one long-lived `py-spy record --format raw --threads --idle --full-filenames --nonblocking
--rate R --duration S` per slice (2 s first, so that shares show soon, then 10 s), parsed by
`parse_raw`. A py-spy start costs ~20 ms of CPU and a sample under 1 ms, so one process per slice
instead of one per dump is where the saving is (at 5/s the samples eat most of it). Raw output
carries no thread state, so while a slice runs the sampler thread polls each Python thread's /proc
state at random intervals of mean 1/R (no aliasing with a periodic workload): the syscall file,
then stat when blocked or io (read bytes) when running, two ~15 us reads. `attribute_states` gives
each thread's samples that match no pattern the state mix its polls saw, after the samples whose
frames decide have taken their part (`state_mix`); the rules are the dump's
(`classify_thread_state`). Which state went with which of a thread's stacks is not known: shares
and per-thread categories are right, the state of one stack is not kept. `owns_gil` is not in raw
output either: "another thread holds the GIL" is read as "another Python thread of the process is
running" (pure Python code only runs holding the GIL), which a dump checks before the first slice
and every 3rd one (`gil_evidence`: when most of the last 5 dumps find threads active and none
holding the GIL, the process runs code without it and the proxy is off). A thread seen runnable
more often than its CPU time (schedstat) allows while another Python thread runs waited for the
GIL for the excess. Those dumps are samples too (the only ones with `active`/`owns_gil`: per-thread
active_pct and gil_pct come from them) and give shares right after attaching. A slice's samples
are spread over its span in the window (`StackWindow`): the window covers the last `window`
seconds of sampled time, and shares change as slices end (py-spy samples at random intervals, so
a slice lasts its length +- ~20 %).

dump: `py-spy dump --json --nonblocking` each 1/rate s (DUMP_RATE, 0.5/s: ~20 ms of CPU each, a
fresh py-spy every time); right after each dump the sampler reads each thread's /proc state,
blocking syscall and read bytes for the stacks that match no pattern. Kept as `backend="dump"`;
one-shot use (`background=False`: one dump per `sample()`) and `subprocesses` (raw output names a
sample's process by its command line, newlines included) always dump.

Nonblocking never stops the target (extra stall time measured at +0.02 % of wall for dumps at 1/s,
vs +0.8..1.5 % for a blocking `record` at 10..100/s). py-spy always runs as a subprocess with an
argument list: no shell, never sudo. close() kills and reaps a running slice and removes the
slices' temporary folder. When the process exits mid-slice, py-spy ends the slice and its samples
are kept (published once more while the status says when and how the process exited).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from perftui.core.stack_categories import (
    STACK_CATEGORIES,
    ThreadState,
    classify,
    classify_frames,
    classify_thread_state,
    syscall_kind,
)
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.pids import (
    ExitInfo,
    ProcessWatch,
    thread_read_bytes,
    thread_state,
    thread_syscall,
)

BACKENDS = ("record", "dump")
DEFAULT_BACKEND = "record"
# dump: each dump costs ~20 ms of CPU (a py-spy process per dump); at 0.5/s over a 20 s window the
# shares rest on 10 dumps per thread.
DUMP_RATE = 0.5  # dumps per second
# record: py-spy samples per second within a slice (an integer: py-spy's --rate)
RECORD_RATE = 2
FIRST_SLICE_SECONDS = 2  # the first slice is short, so that shares show soon after attaching
SLICE_SECONDS = 10  # then slices of this length: one py-spy start and one dump each
DUMP_EVERY_SLICES = 3  # a dump before the first slice and every 3rd one (GIL check, exact flags)
GIL_EVIDENCE_DUMPS = 5  # dumps behind the GIL proxy's check (gil_evidence)
DEFAULT_RATE: float = RECORD_RATE if DEFAULT_BACKEND == "record" else DUMP_RATE
DEFAULT_WINDOW = 20.0  # seconds of samples behind the shares and top functions
TOP_N = 15
_MACHINE = platform.machine()

INSTALL_HINT = "install it in perftui's environment with `pip install py-spy`"
PTRACE_HINT = (
    "py-spy was refused ptrace on PID {pid}: run perftui as root, or as the same user with "
    "`sysctl kernel.yama.ptrace_scope=0`, or give the container SYS_PTRACE "
    "(docker run --cap-add SYS_PTRACE); perftui never runs sudo"
)
NOT_PYTHON = "not a Python process: stacks unavailable; process metrics still shown"


# -- data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    name: str
    filename: str
    line: int | None


@dataclass
class ThreadSample:
    pid: int
    tid: int | None
    thread_name: str
    active: bool | None
    owns_gil: bool | None
    frames: list[Frame]  # innermost first
    category: str = "compute"
    weight: float = 1  # raw lines carry counts; attribute_states splits them (fractions)
    extra: dict[str, Any] = field(default_factory=dict)


class PySpyError(Exception):
    """One-line, user-facing reason; `kind` tells the sampler whether retrying makes sense."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # missing | permission | not_python | no_process | failed


# -- parsing ------------------------------------------------------------------
def parse_dump_json(text: str) -> list[ThreadSample]:
    """Threads of `py-spy dump --json` output (a list of thread objects)."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("py-spy dump --json: expected a list of threads")
    out: list[ThreadSample] = []
    for t in data:
        frames = [
            Frame(
                str(f.get("name", "?")),
                str(f.get("filename") or f.get("short_filename") or "?"),
                f.get("line"),
            )
            for f in t.get("frames") or []
        ]
        pid = int(t.get("pid") or 0)
        tid = t.get("os_thread_id")
        name = t.get("thread_name")  # null until the target imports threading
        if not name:
            name = "MainThread" if tid is not None and tid == pid else f"thread {tid or t.get('thread_id')}"
        out.append(
            ThreadSample(
                pid=pid,
                tid=tid,
                thread_name=str(name),
                active=t.get("active"),
                owns_gil=t.get("owns_gil"),
                frames=frames,
            )
        )
    return out


def _parse_raw_frame(text: str) -> Frame:
    # "name (file:line)" ; file may contain spaces and colons
    if text.endswith(")") and " (" in text:
        name, loc = text[:-1].split(" (", 1)
        fname, _, line = loc.rpartition(":")
        if fname and line.isdigit():
            return Frame(name, fname, int(line))
        return Frame(name, loc, None)
    return Frame(text, "?", None)


def _raw_thread(head: str) -> tuple[int | None, str] | None:
    """(tid, name) of a raw "thread (TID): NAME" or "thread (TID)" frame; None for any other frame."""
    if not head.startswith("thread ("):
        return None
    inner, sep, name = head[len("thread (") :].partition(")")
    if not sep or (name and not name.startswith(": ")):
        return None
    try:
        tid = int(inner, 16) if inner.lower().startswith("0x") else int(inner)
    except ValueError:
        return None
    return tid, name[2:]


def parse_raw(text: str, pid: int = 0) -> list[ThreadSample]:
    """Collapsed stacks of `py-spy record --format raw` ("outer;...;leaf COUNT"), one entry per line.

    With `--threads` each line starts with "thread (TID): NAME", or "thread (TID)" for a thread
    that has no name yet (then `tid` is set and the name follows `parse_dump_json`'s rule).
    Raw output has no thread state: `active` and `owns_gil` are None.
    """
    out: list[ThreadSample] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            continue
        parts = stack.split(";")
        tid: int | None = None
        tname = ""
        thread = _raw_thread(parts[0])
        if thread is not None:
            tid, tname = thread
            parts = parts[1:]
            if not tname:
                tname = "MainThread" if tid == pid else f"thread {tid}"
        frames = [_parse_raw_frame(p) for p in reversed(parts)]
        out.append(ThreadSample(pid, tid, tname, None, None, frames, weight=int(count)))
    return out


def summarize_stderr(stderr: str) -> str:
    """The first meaningful line of py-spy's stderr (drops backtraces and blank lines)."""
    for line in stderr.splitlines():
        s = line.strip()
        if not s or s.startswith(("Stack backtrace", "Caused by")) or s[:1].isdigit():
            continue
        return s.removeprefix("Error: ")[:200]
    return "no error output"


def explain_failure(pid: int, returncode: int, stderr: str) -> PySpyError:
    """Turn a failed py-spy run into one clear message."""
    low = stderr.lower()
    if "permission denied" in low or "operation not permitted" in low or "os error 1)" in low:
        return PySpyError(PTRACE_HINT.format(pid=pid), "permission")
    if "failed to find python version" in low or "doesn't appear to be a python" in low:
        return PySpyError(NOT_PYTHON, "not_python")
    if "no such process" in low or "check that the process is running" in low:
        return PySpyError(f"no process with PID {pid}", "no_process")
    return PySpyError(f"py-spy failed (exit {returncode}): {summarize_stderr(stderr)}", "failed")


# -- running ------------------------------------------------------------------
def find_py_spy() -> str | None:
    """The py-spy the py-spy package installed next to this interpreter, else the one on PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("py-spy")


def run_dump(
    binary: str, pid: int, *, nonblocking: bool = True, subprocesses: bool = False, timeout: float = 10.0
) -> list[ThreadSample]:
    args = [binary, "dump", "--pid", str(pid), "--json"]
    if nonblocking:
        args.append("--nonblocking")
    if subprocesses:
        args.append("--subprocesses")
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise PySpyError(f"py-spy not found at {binary}: {INSTALL_HINT}", "missing") from exc
    except PermissionError as exc:
        raise PySpyError(f"py-spy at {binary} cannot be executed ({exc.strerror})", "missing") from exc
    except subprocess.TimeoutExpired as exc:
        raise PySpyError(f"py-spy dump did not answer within {timeout:.0f} s", "failed") from exc
    except OSError as exc:
        raise PySpyError(f"py-spy at {binary} cannot be executed ({exc})", "missing") from exc
    if proc.returncode != 0:
        raise explain_failure(pid, proc.returncode, proc.stderr + proc.stdout)
    try:
        return parse_dump_json(proc.stdout)
    except (ValueError, TypeError, AttributeError) as exc:
        raise PySpyError(f"py-spy output not understood: {exc}", "failed") from exc


ReadHistory = dict[tuple[int, int], tuple[float, int]]


def annotate(
    samples: list[ThreadSample], proc_root: str = "/proc", history: ReadHistory | None = None
) -> None:
    """Read each thread's /proc state, syscall and read bytes, then set its category.

    `history` keeps each thread's last (time, read_bytes) between calls for its read rate.
    """
    now = time.monotonic()
    gil_owner_by_pid: dict[int, bool] = {}
    for s in samples:
        if s.owns_gil:
            gil_owner_by_pid[s.pid] = True
    for s in samples:
        state = running = kind = None
        read_rate: float | None = None
        if s.tid is not None and s.pid:
            state, _ = thread_state(s.pid, s.tid, proc_root)
            running, nr = thread_syscall(s.pid, s.tid, proc_root)
            kind = syscall_kind(nr, _MACHINE) if running is False else None
            if history is not None:
                rb = thread_read_bytes(s.pid, s.tid, proc_root)
                prev = history.get((s.pid, s.tid))
                if rb is not None:
                    history[(s.pid, s.tid)] = (now, rb)
                    if prev is not None and now > prev[0]:
                        read_rate = max(0, rb - prev[1]) / (now - prev[0])
        other_owns = bool(gil_owner_by_pid.get(s.pid)) and not s.owns_gil
        ts = ThreadState(s.active, s.owns_gil, other_owns, state, running, kind, read_rate)
        s.category = classify([(f.name, f.filename) for f in s.frames], ts)
        s.extra = {"state": state, "syscall": kind or ("running" if running else None)}


# -- thread state for record slices ---------------------------------------------
# Frame categories whose samples are taken on a CPU, off it, or either (see `state_mix`).
_RUNNING_FRAMES = frozenset({"tokenization"})
_EITHER_FRAMES = frozenset({"cuda_sync", "collective", "disk_read"})


def _read_proc(path: str) -> bytes | None:
    """One small /proc file, unbuffered (a third of the cost of open().read() in text mode)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ThreadPoll:
    """One read of one thread's /proc state while a record slice runs."""

    state: str | None  # /proc stat state letter: R S D ...
    running: bool | None  # the syscall file said "running" (on a CPU or runnable)
    syscall: str | None  # syscall_kind(...) when blocked
    read_rate: float | None = None  # storage reads since the thread's previous read, bytes/s
    other_running: bool = False  # another Python thread of the same process was running at this poll

    @property
    def bucket(self) -> str | None:
        """'run' (on a CPU or runnable), 'blocked', or None (unknown, exiting)."""
        if self.running is True or (self.running is None and self.state == "R"):
            return "run"
        if self.running is False or self.state in ("S", "D"):
            return "blocked"
        return None


def read_thread_poll(
    pid: int,
    tid: int,
    proc_root: str = "/proc",
    history: ReadHistory | None = None,
    now: float = 0.0,
) -> ThreadPoll | None:
    """State, blocking syscall and (when running) storage read rate of one thread; None when gone.

    Two small reads per thread: the syscall file, then stat when it is blocked (S or D matters)
    or io when it is running (a running thread's state is R).
    """
    base = f"{proc_root}/{pid}/task/{tid}/"
    text = _read_proc(base + "syscall")
    words = text.split(None, 1) if text else []
    running: bool | None = None
    nr: int | None = None
    state: str | None = None
    read_rate: float | None = None
    if words and words[0] == b"running":
        running, state = True, "R"
        if history is not None:
            read_rate = _read_rate(_read_proc(base + "io"), (pid, tid), history, now)
    else:
        if words:
            with contextlib.suppress(ValueError):
                nr = int(words[0])
            if nr is not None and nr >= 0:
                running = False
            else:
                nr = None  # not in a syscall (-1): a page fault, a stop...
        stat = _read_proc(base + "stat")
        if not stat:
            return None  # gone
        fields = stat.rsplit(b")", 1)[-1].split(None, 1)
        state = fields[0].decode("ascii", "replace") if fields else None
    kind = syscall_kind(nr, _MACHINE) if running is False else None
    return ThreadPoll(state, running, kind, read_rate)


def thread_cpu_ns(pid: int, tid: int, proc_root: str = "/proc") -> int | None:
    """Nanoseconds one thread has spent on a CPU (/proc/PID/task/TID/schedstat, field 1)."""
    text = _read_proc(f"{proc_root}/{pid}/task/{tid}/schedstat")
    try:
        return int(text.split(None, 1)[0]) if text else None
    except ValueError:
        return None


def _read_rate(io: bytes | None, key: tuple[int, int], history: ReadHistory, now: float) -> float | None:
    """Storage bytes/s read since the thread's previous io read (`history` keeps it)."""
    if not io:
        return None
    at = io.find(b"read_bytes:")
    if at < 0:
        return None
    try:
        rb = int(io[at + 11 :].split(None, 1)[0])
    except (ValueError, IndexError):
        return None
    prev = history.get(key)
    history[key] = (now, rb)
    if prev is None or now <= prev[0]:
        return None
    return max(0, rb - prev[1]) / (now - prev[0])


def poll_round(
    keys: Iterable[tuple[int, int]], proc_root: str = "/proc", history: ReadHistory | None = None
) -> dict[tuple[int, int], ThreadPoll]:
    """One read of each (pid, tid); `other_running` says whether another of them in the same
    process was running at this round (pure Python code only runs holding the GIL)."""
    now = time.monotonic()
    polls: dict[tuple[int, int], ThreadPoll] = {}
    for pid, tid in keys:
        p = read_thread_poll(pid, tid, proc_root, history, now)
        if p is not None:
            polls[(pid, tid)] = p
    running: dict[int, int] = {}
    for (pid, _), p in polls.items():
        if p.running:
            running[pid] = running.get(pid, 0) + 1
    for key, p in polls.items():
        if running.get(key[0], 0) > (1 if p.running else 0):
            polls[key] = replace(p, other_running=True)
    return polls


def poll_category(poll: ThreadPoll, gil_proxy: bool = True) -> str:
    """The category a stack matching no pattern gets from one poll (classify_thread_state).

    Raw output has no `owns_gil`: "another thread holds the GIL" is read as "another Python thread
    of the process is running" (`gil_proxy` False turns that off: see `gil_evidence`). `active` is
    py-spy's own definition on Linux: the thread's state is R.
    """
    active = None if poll.state is None else poll.state == "R"
    other = gil_proxy and poll.other_running and poll.running is not None
    ts = ThreadState(active, None, other, poll.state, poll.running, poll.syscall, poll.read_rate)
    return classify_thread_state(ts)


def gil_evidence(samples: Iterable[ThreadSample]) -> dict[int, bool | None]:
    """Per process, what one dump says about "a running thread holds the GIL".

    True: a thread held the GIL. False: a thread was active (py-spy's view at the dump) and none
    held it: the process runs code without the GIL (C extensions), and a thread waiting in futex
    may wait for a lock, not the GIL. None: nothing ran, no evidence either way.
    """
    holder: dict[int, bool] = {}
    active: dict[int, bool] = {}
    for s in samples:
        holder[s.pid] = holder.get(s.pid, False) or bool(s.owns_gil)
        active[s.pid] = active.get(s.pid, False) or bool(s.active)
    return {pid: True if holder[pid] else (False if active[pid] else None) for pid in holder}


def gil_proxy_ok(evidence: Iterable[bool]) -> bool:
    """Whether the GIL proxy holds for a process, from its recent dumps' `gil_evidence`: unless most
    of them saw threads running without a GIL holder (one dump can fall on a GIL hand-over)."""
    seen = list(evidence)
    return sum(seen) * 2 >= len(seen)


def state_mix(
    matched: Mapping[str, float],
    total: float,
    polls: Sequence[ThreadPoll],
    gil_proxy: bool = True,
    cpu_share: float | None = None,
) -> dict[str, float]:
    """Category shares (summing to 1) for one thread's samples that match no pattern in one slice.

    `matched` holds the weights of its samples whose frames decided the category, `total` the
    weight of all its samples. Its polls say which share of the slice it spent on a CPU and which
    off it, and in what state. Samples with a known category use up their part first (a socket
    wait is off a CPU, tokenization on it, CUDA sync, collectives and disk-read frames either), so
    that a thread computing half the time and waiting on a socket the other half does not have its
    compute samples called socket waits. What is left of each part, in the states the polls saw,
    goes to the samples that match nothing. Without polls: ThreadState() decides (compute).

    `cpu_share`: the CPU time the thread got over the slice / its length (schedstat). A runnable
    thread is not always on a CPU: woken to take the GIL, it waits for it. When the polls saw the
    thread runnable more often than its CPU time allows, that excess of its "running while another
    Python thread runs" polls counts as gil (with the GIL proxy on), not compute.
    """
    run: defaultdict[str, float] = defaultdict(float)
    blocked: defaultdict[str, float] = defaultdict(float)
    shared = 0.0  # run polls with another Python thread running
    for p in polls:
        bucket = p.bucket
        if bucket == "run":
            category = poll_category(p, gil_proxy)
            run[category] += 1.0
            if category == "compute" and p.other_running and gil_proxy:
                shared += 1.0
        elif bucket == "blocked":
            blocked[poll_category(p, gil_proxy)] += 1.0
    n_run, n_blocked = sum(run.values()), sum(blocked.values())
    n = n_run + n_blocked
    if n == 0 or total <= 0:
        return {classify_thread_state(ThreadState()): 1.0}
    r, b = n_run / n, n_blocked / n
    if cpu_share is not None and shared and r > cpu_share:
        moved = min(shared, (r - max(0.0, cpu_share)) * n)
        run["compute"] -= moved
        run["gil"] += moved
    m_run = sum(w for c, w in matched.items() if c in _RUNNING_FRAMES) / total
    m_either = sum(w for c, w in matched.items() if c in _EITHER_FRAMES) / total
    m_blocked = sum(matched.values()) / total - m_run - m_either
    left_r, left_b = max(0.0, r - m_run), max(0.0, b - m_blocked)
    left = left_r + left_b
    if m_either > 0 and left > 0:
        keep = 1.0 - min(m_either, left) / left
        left_r, left_b = left_r * keep, left_b * keep
    if left_r + left_b <= 1e-9:  # the polls and the frames disagree: the polls alone decide
        left_r, left_b = r, b
    mix: defaultdict[str, float] = defaultdict(float)
    for c, k in run.items():
        mix[c] += left_r * k / n_run
    for c, k in blocked.items():
        mix[c] += left_b * k / n_blocked
    norm = sum(mix.values())
    return {c: v / norm for c, v in mix.items() if v > 1e-12}


def attribute_states(
    samples: Iterable[ThreadSample],
    polls: Mapping[tuple[int, int], Sequence[ThreadPoll]],
    gil_proxy: Mapping[int, bool] | None = None,
    cpu_share: Mapping[tuple[int, int], float] | None = None,
) -> list[ThreadSample]:
    """Categories for one slice of raw samples, their state from the thread's polls (`state_mix`).

    A sample whose frames decide keeps its weight; one that matches nothing is split into one
    sample per category of its thread's mix, with weights in proportion (floats).
    """
    by_thread: dict[tuple[int, int | None], list[ThreadSample]] = {}
    for s in samples:
        by_thread.setdefault((s.pid, s.tid), []).append(s)
    out: list[ThreadSample] = []
    for (pid, tid), items in by_thread.items():
        matched: defaultdict[str, float] = defaultdict(float)
        unmatched: list[ThreadSample] = []
        for s in items:
            category, saw_wait = classify_frames([(f.name, f.filename) for f in s.frames])
            if category is None and saw_wait:
                category = "idle"
            if category is None:
                unmatched.append(s)
                continue
            s.category = category
            matched[category] += s.weight
            out.append(s)
        if not unmatched:
            continue
        thread_polls = polls.get((pid, tid), ()) if tid is not None else ()
        proxy = True if gil_proxy is None else gil_proxy.get(pid, True)
        share = cpu_share.get((pid, tid)) if cpu_share is not None and tid is not None else None
        mix = state_mix(matched, sum(s.weight for s in items), thread_polls, proxy, share)
        for s in unmatched:
            for category, part in sorted(mix.items()):
                out.append(replace(s, category=category, weight=s.weight * part))
    return out


# -- aggregation --------------------------------------------------------------
class StackWindow:
    """Thread samples over a sliding window: category shares, top functions, per-thread state.

    An entry is one dump (a point in time) or one record slice (a span: its samples are spread
    evenly over it). Each entry counts with the share of it inside the last `seconds` (1 for a
    dump inside the window), so a slice that is half out of the window counts half.
    Sample weights may be fractional (`attribute_states` splits samples between categories).
    """

    def __init__(self, seconds: float = DEFAULT_WINDOW) -> None:
        self.seconds = seconds
        # (start, end, kind, samples), in the order they were added (end times ascending)
        self._entries: deque[tuple[float, float, str, list[ThreadSample]]] = deque()
        self._now: float | None = None

    def add(self, ts: float, samples: list[ThreadSample], *, start: float | None = None) -> None:
        """Add a dump taken at `ts`, or (with `start`) a slice sampled from `start` to `ts`."""
        kind = "dump" if start is None else "slice"
        self._entries.append((ts if start is None else min(start, ts), ts, kind, samples))
        self.prune(ts)

    def prune(self, now: float) -> None:
        self._now = now
        cutoff = now - self.seconds
        while self._entries and self._entries[0][1] <= cutoff:
            self._entries.popleft()

    def _factor(self, start: float, end: float) -> float:
        if self._now is None or end <= start:
            return 1.0
        cutoff = self._now - self.seconds
        if start >= cutoff:
            return 1.0
        return max(0.0, (end - cutoff) / (end - start))

    def _weighted(self) -> Iterator[tuple[int, ThreadSample, float]]:
        """(entry index, sample, weight in the window) of every sample still in the window."""
        for i, (start, end, _, samples) in enumerate(self._entries):
            f = self._factor(start, end)
            if f <= 0.0:
                continue
            for s in samples:
                w = s.weight * f
                if w > 0:
                    yield i, s, w

    @property
    def dumps(self) -> int:
        return sum(1 for e in self._entries if e[2] == "dump")

    @property
    def slices(self) -> int:
        return sum(1 for e in self._entries if e[2] == "slice")

    def total(self) -> float:
        return sum(w for _, _, w in self._weighted())

    def shares(self) -> dict[str, float]:
        counts: defaultdict[str, float] = defaultdict(float)
        for _, s, w in self._weighted():
            counts[s.category] += w
        total = sum(counts.values())
        if total <= 0:
            return {}
        return {cat: 100.0 * counts.get(cat, 0) / total for cat in STACK_CATEGORIES}

    def top(self, n: int = TOP_N) -> list[dict[str, Any]]:
        weighted = list(self._weighted())
        total = sum(w for _, _, w in weighted)
        if total <= 0:
            return []
        self_c: defaultdict[tuple[str, str], float] = defaultdict(float)
        total_c: defaultdict[tuple[str, str], float] = defaultdict(float)
        lines: dict[tuple[str, str], defaultdict[int, float]] = {}
        for _, s, w in weighted:
            if not s.frames:
                continue
            leaf = s.frames[0]
            key = (leaf.name, leaf.filename)
            self_c[key] += w
            if leaf.line is not None:
                lines.setdefault(key, defaultdict(float))[leaf.line] += w
            for k in {(f.name, f.filename) for f in s.frames}:
                total_c[k] += w
        ranked = sorted(total_c, key=lambda k: (-self_c.get(k, 0), -total_c[k], k))
        out = []
        for k in ranked[:n]:
            line_counts = lines.get(k)
            line = max(line_counts.items(), key=lambda kv: kv[1])[0] if line_counts else None
            if line is None:
                line = next(
                    (f.line for _, s, _w in weighted for f in s.frames if (f.name, f.filename) == k), None
                )
            out.append(
                {
                    "function": k[0],
                    "file": k[1],
                    "line": line,
                    "self_pct": min(100.0, 100.0 * self_c.get(k, 0) / total),
                    "total_pct": min(100.0, 100.0 * total_c[k] / total),
                }
            )
        return out

    def threads(self) -> list[dict[str, Any]]:
        per: dict[tuple[int, int | None, str], list[tuple[int, ThreadSample, float]]] = {}
        for i, s, w in self._weighted():
            per.setdefault((s.pid, s.tid, s.thread_name), []).append((i, s, w))
        out: list[dict[str, Any]] = []
        for (pid, tid, name), items in per.items():
            n = sum(w for _, _, w in items)
            cats: defaultdict[str, float] = defaultdict(float)
            for _, s, w in items:
                cats[s.category] += w
            newest = max(i for i, _, _ in items)
            last = max((s for i, s, _ in items if i == newest), key=lambda s: s.weight)
            active = [(s, w) for _, s, w in items if s.active is not None]  # dumps only
            gil = [(s, w) for _, s, w in items if s.owns_gil is not None]
            out.append(
                {
                    "pid": pid,
                    "tid": tid,
                    "name": name,
                    "samples": round(n, 1),
                    "active": active[-1][0].active if active else None,
                    "owns_gil": gil[-1][0].owns_gil if gil else None,
                    "active_pct": _pct_of(active, lambda s: bool(s.active)),
                    "gil_pct": _pct_of(gil, lambda s: bool(s.owns_gil)),
                    "category": max(cats.items(), key=lambda kv: kv[1])[0],
                    "leaf": f"{last.frames[0].name} ({last.frames[0].filename}:{last.frames[0].line})"
                    if last.frames
                    else None,
                }
            )
        out.sort(key=lambda d: (-float(d["samples"]), int(d["pid"]), int(d["tid"] or 0)))
        return out


def _pct_of(items: list[tuple[ThreadSample, float]], pred: Callable[[ThreadSample], bool]) -> float | None:
    total = sum(w for _, w in items)
    if total <= 0:
        return None
    return 100.0 * sum(w for s, w in items if pred(s)) / total


# -- the sampler ----------------------------------------------------------------
class StackSampler(BaseSampler):
    """Samples stacks on its own thread (see the module doc); `sample()` aggregates the window.

    `backend`: "record" (long-lived `py-spy record` slices, `rate` samples per second, an integer;
    slices of `first_slice_seconds`, then `slice_seconds`; a dump before the first slice and every
    `dump_every`-th one) or "dump" (one `py-spy dump` each 1/`rate` s). `rate` None: the backend's
    default. With `background=False` (tests, one-shot commands) each `sample()` takes one dump,
    whatever the backend; `record_slice()` runs one slice in the caller's thread. With
    `subprocesses` the record backend dumps instead (raw output cannot carry the process of a
    sample reliably: py-spy writes its command line, newlines included).
    """

    name = "stacks"

    def __init__(
        self,
        pid: int,
        interval: float = 1.0,
        *,
        rate: float | None = None,
        window: float = DEFAULT_WINDOW,
        binary: str | None = None,
        nonblocking: bool = True,
        subprocesses: bool = False,
        watch: ProcessWatch | None = None,
        proc_root: str = "/proc",
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
        backend: str = DEFAULT_BACKEND,
        slice_seconds: int = SLICE_SECONDS,
        first_slice_seconds: int = FIRST_SLICE_SECONDS,
        dump_every: int = DUMP_EVERY_SLICES,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown stacks backend {backend!r}: one of {', '.join(BACKENDS)}")
        self.pid = pid
        self.background = background
        self.interval = interval
        self.backend = "dump" if subprocesses else backend
        if self.backend == "record":
            self.rate = float(max(1, min(round(rate if rate is not None else RECORD_RATE), 100)))
        elif backend == "record" or rate is None:  # a record rate is no dump rate
            self.rate = DUMP_RATE
        else:
            self.rate = max(0.1, min(rate, 20.0))
        self.slice_seconds = max(1, int(slice_seconds))
        self.first_slice_seconds = max(1, min(int(first_slice_seconds), self.slice_seconds))
        self.dump_every = max(1, int(dump_every))
        self.binary = binary if binary is not None else find_py_spy()
        self.nonblocking = nonblocking
        self.subprocesses = subprocesses
        self.watch = watch or ProcessWatch(pid)
        self.proc_root = proc_root
        self._clock = clock
        self._window = StackWindow(window)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._stopped = False  # a permanent error: no more py-spy runs
        self._reads: ReadHistory = {}
        self._details: dict[str, Any] = {}
        self._unpublished = False  # samples added since the last sample()
        self._proc_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None  # the running record slice
        self._tmpdir: str | None = None  # the running slice's folder
        self._closed = False
        self._slices = 0  # record slices started
        self._slices_done = 0
        self._rng = random.Random()
        self._gil_seen: dict[int, deque[bool]] = {}  # gil_evidence of the last dumps
        self._keys: list[tuple[int, int]] = []  # (pid, tid) of the Python threads to poll
        self.last_error: PySpyError | None = None
        if self.binary is None:
            self._status = SourceStatus.unavailable(f"py-spy not found: {INSTALL_HINT}")
        elif self.watch.create_time is None:
            self._status = SourceStatus.unavailable(f"no process with PID {pid}")
        else:
            self._status = SourceStatus.ok()

    def availability(self) -> SourceStatus:
        return self._status

    def details(self) -> Mapping[str, Any]:
        return self._details

    def start(self) -> None:
        if self._thread is None and self._status.available and not self._closed:
            target = self._record_loop if self.backend == "record" else self._loop
            self._thread = threading.Thread(target=target, name="perftui-py-spy", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop sampling: kill and reap a running slice, remove its files."""
        self._closed = True
        self._stop.set()
        self._kill_slice()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._proc_lock:
            proc = self._proc
        if proc is not None:  # the thread did not finish in time: reap it here
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait(timeout=2.0)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def sample(self) -> Values:
        if self.background:
            self.start()
        elif not self._stopped:
            self._dump_guarded()  # one dump per tick (tests, one-shot commands)
        with self._lock:
            # after an exit, the samples the last slice brought are still published once
            if not self._status.available and not self._unpublished:
                return {}
            self._unpublished = False
            self._window.prune(self._clock())
            shares = self._window.shares()
            total = self._window.total()
            if total:
                self._details = {
                    "stack.top": self._window.top(),
                    "stack.threads": self._window.threads(),
                    "stack.window": {
                        "seconds": self._window.seconds,
                        "dumps": self._window.dumps,
                        "slices": self._window.slices,
                        "backend": self.backend,
                        "rate": self.rate,
                    },
                }
        values: Values = {f"stack.share.{c}": v for c, v in shares.items()}
        if total:
            values["stack.samples"] = float(total)
        return values

    # -- the dump backend --------------------------------------------------------
    def dump_once(self) -> list[ThreadSample]:
        """One dump, annotated and added to the window (raises PySpyError)."""
        assert self.binary is not None
        samples = run_dump(
            self.binary, self.pid, nonblocking=self.nonblocking, subprocesses=self.subprocesses
        )
        annotate(samples, self.proc_root, self._reads)
        if len(self._reads) > 4096:  # threads come and go
            self._reads.clear()
        with self._lock:
            self._window.add(self._clock(), samples)
            self._unpublished = True
        return samples

    def _dump_guarded(self) -> None:
        try:
            self.dump_once()
            self._failures = 0
            if not self._status.available:
                self._status = SourceStatus.ok()
        except PySpyError as exc:
            if self._handle_error(exc):
                self._stopped = True

    def _loop(self) -> None:
        while not self._stop.is_set() and not self._stopped:
            started = time.monotonic()
            self._dump_guarded()
            if self._stopped:
                return
            period = 1.0 / self.rate if self._failures == 0 else min(5.0, self._failures / self.rate)
            self._stop.wait(max(0.0, period - (time.monotonic() - started)))

    # -- the record backend ------------------------------------------------------
    def record_slice(self, seconds: int | None = None, *, dump: bool = True) -> list[ThreadSample]:
        """One `py-spy record` slice of `seconds` while the threads' /proc state is polled, after a
        dump (`dump`, or when no thread is known yet); all go to the window. Returns the slice's
        samples (raises PySpyError; returns [] when close() interrupted it)."""
        if dump or not self._keys:
            samples = self.dump_once()
            self._keys = sorted({(s.pid, s.tid) for s in samples if s.tid is not None and s.pid})
            for pid, seen in gil_evidence(samples).items():
                if seen is not None:
                    self._gil_seen.setdefault(pid, deque(maxlen=GIL_EVIDENCE_DUMPS)).append(seen)
        proxy = {pid: gil_proxy_ok(seen) for pid, seen in self._gil_seen.items()}
        rows = self._run_record(seconds or self.slice_seconds, self._keys, proxy)
        seen_now = sorted({(s.pid, s.tid) for s in rows if s.tid is not None})
        if seen_now:  # the Python threads of this slice are the ones to poll in the next
            self._keys = seen_now
        return rows

    def _record_loop(self) -> None:
        while not self._stop.is_set() and not self._stopped:
            n = self._slices_done
            seconds = self.first_slice_seconds if n == 0 else self.slice_seconds
            try:
                self.record_slice(seconds, dump=n % self.dump_every == 0 or self._failures > 0)
                self._failures = 0
                if not self._status.available and not self._stop.is_set():
                    self._status = SourceStatus.ok()
            except PySpyError as exc:
                if self._stop.is_set():
                    return
                if self._handle_error(exc):
                    self._stopped = True
                    return
                self._stop.wait(min(5.0, float(self._failures)))

    def _record_args(self, seconds: int, out: str) -> list[str]:
        assert self.binary is not None
        args = [self.binary, "record", "--pid", str(self.pid), "--format", "raw", "--threads", "--idle"]
        args += ["--full-filenames", "--rate", str(int(self.rate)), "--duration", str(seconds), "-o", out]
        if self.nonblocking:
            args.append("--nonblocking")
        return args

    def _kill_slice(self) -> None:
        with self._proc_lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()

    def _run_record(
        self, seconds: int, keys: list[tuple[int, int]], gil_proxy: Mapping[int, bool]
    ) -> list[ThreadSample]:
        if self._closed:
            raise PySpyError("stack sampling was closed", "failed")
        # a folder per slice, removed when the slice ends (and by close() if it is still there)
        tmp = self._tmpdir = tempfile.mkdtemp(prefix="perftui-stacks-")
        self._slices += 1
        out = os.path.join(tmp, "slice.txt")
        logs = (os.path.join(tmp, "py-spy.out"), os.path.join(tmp, "py-spy.err"))
        try:
            try:
                with open(logs[0], "wb") as stdout, open(logs[1], "wb") as stderr:
                    proc = subprocess.Popen(
                        self._record_args(seconds, out),
                        stdin=subprocess.DEVNULL,
                        stdout=stdout,
                        stderr=stderr,
                        close_fds=True,
                    )
            except FileNotFoundError as exc:
                if not os.path.isdir(tmp):  # close() removed the folder meanwhile
                    return []
                raise PySpyError(f"py-spy not found at {self.binary}: {INSTALL_HINT}", "missing") from exc
            except OSError as exc:
                raise PySpyError(f"py-spy at {self.binary} cannot be executed ({exc})", "missing") from exc
            with self._proc_lock:
                self._proc = proc
            cpu0 = {k: (time.monotonic(), thread_cpu_ns(*k, self.proc_root)) for k in keys}
            polls, t0, t1 = self._poll_while(proc, seconds, keys)
            cpu_share = _cpu_shares(cpu0, self.proc_root)
            if self._stop.is_set():
                return []
            if proc.returncode != 0:
                raise explain_failure(self.pid, proc.returncode, _text(logs[1]) + _text(logs[0]))
            text = _text(out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            self._tmpdir = None
        samples = parse_raw(text, self.pid)
        # a thread the first dump did not show: one read now, better than nothing
        missing = {(s.pid, s.tid) for s in samples if s.tid is not None}.difference(polls)
        for key, p in poll_round(sorted(missing), self.proc_root, self._reads).items():
            polls[key] = [p]
        attributed = attribute_states(samples, polls, gil_proxy, cpu_share)
        with self._lock:
            self._window.add(t1, attributed, start=t0)
            self._unpublished = True
        self._slices_done += 1
        if self.watch.check() is not None or self.watch.zombie_since is not None:
            # py-spy ended the slice because the process exited: its samples are kept above
            raise PySpyError(f"no process with PID {self.pid}", "no_process")
        return attributed

    def _poll_while(
        self, proc: subprocess.Popen[bytes], seconds: int, keys: list[tuple[int, int]]
    ) -> tuple[dict[tuple[int, int], list[ThreadPoll]], float, float]:
        """Poll the threads at random intervals (mean 1/rate, as py-spy samples: no aliasing with a
        periodic workload) until the slice ends; kill and reap py-spy on close() or a hang."""
        polls: dict[tuple[int, int], list[ThreadPoll]] = {}
        t0 = self._clock()
        deadline = time.monotonic() + 2.0 * seconds + 10.0
        exited = _exit_waiter(proc)  # wakes as soon as py-spy ends (the process exited, or close())
        try:
            if self._stop.is_set():
                return polls, t0, t0
            while proc.poll() is None:
                if self._stop.is_set():
                    return polls, t0, self._clock()
                if time.monotonic() > deadline:
                    raise PySpyError(f"py-spy record did not finish a {seconds} s slice", "failed")
                for key, p in poll_round(keys, self.proc_root, self._reads).items():
                    polls.setdefault(key, []).append(p)
                gap = min(3.0, max(0.1, self._rng.expovariate(1.0))) / self.rate
                if exited is None:
                    self._stop.wait(gap)
                else:
                    select.select([exited], [], [], gap)
            return polls, t0, self._clock()
        finally:
            if exited is not None:
                os.close(exited)
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.kill()
            proc.wait()
            with self._proc_lock:
                self._proc = None
            if len(self._reads) > 4096:
                self._reads.clear()

    # -- errors -------------------------------------------------------------------
    def _handle_error(self, exc: PySpyError) -> bool:
        """Record the error; True when sampling must stop for good."""
        self.last_error = exc
        gone = self.watch.check()
        if gone is not None:
            self._status = SourceStatus.unavailable(gone.message)
            return True
        if self.watch.zombie_since is not None:
            self._failures += 1
            info = ExitInfo(self.pid, self.watch.zombie_since, self.watch.zombie_code)
            self._status = SourceStatus.unavailable(
                f"{info.message}; it stays a zombie until its parent reaps it"
            )
            return False
        if exc.kind in ("missing", "permission", "not_python", "no_process"):
            self._status = SourceStatus.unavailable(str(exc))
            return True
        self._failures += 1
        if self._failures >= 3:
            self._status = SourceStatus.unavailable(str(exc))
        return False


def _exit_waiter(proc: subprocess.Popen[bytes]) -> int | None:
    """A pidfd that turns readable when `proc` exits (Linux >= 5.3); None where there is none."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(proc.pid))
    except OSError:
        return None


def _cpu_shares(
    before: Mapping[tuple[int, int], tuple[float, int | None]], proc_root: str
) -> dict[tuple[int, int], float]:
    """Each thread's CPU time since `before` (time, cpu ns) per second of wall time."""
    out: dict[tuple[int, int], float] = {}
    for key, (t0, ns0) in before.items():
        ns1 = thread_cpu_ns(*key, proc_root)
        wall = time.monotonic() - t0
        if ns0 is not None and ns1 is not None and wall > 0.1:
            out[key] = max(0, ns1 - ns0) / 1e9 / wall
    return out


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""
