"""What a Python thread was doing, from /proc: the state half of a stack sample's category.

`annotate` reads each dumped thread's state, blocking syscall and read rate once and sets its
category. For record slices (raw output carries no thread state) `poll_round` reads every thread
at each poll (`ThreadPoll`, `read_thread_poll`), `thread_cpu_ns` its CPU time, and
`attribute_states` gives the samples that match no pattern the state mix the polls saw
(`state_mix`, `poll_category`); `gil_evidence` and `gil_proxy_ok` say from dumps whether
"another Python thread is running" may stand for "another thread holds the GIL". The rules are
`perftui.core.stack_categories`' (`classify_thread_state`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from perftui.core.stack_categories import (
    ThreadState,
    classify,
    classify_frames,
    classify_thread_state,
    syscall_kind,
)
from perftui.samplers.pids import thread_read_bytes, thread_state, thread_syscall
from perftui.samplers.pyspy import ThreadSample

_MACHINE = platform.machine()


# -- thread state for dumps ------------------------------------------------------
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


def cpu_shares(
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
