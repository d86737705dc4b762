"""The "stacks" sampler: Python stacks of an attached process via the py-spy binary.

Backend, chosen by measurement (benchmarks/stacks_bench.py, 2-core VM):
`py-spy dump --json --nonblocking`, DEFAULT_RATE times a second, on a thread of
its own. Nonblocking never stops the target (extra stall time measured at
+0.02 % of wall at 1/s, vs +0.8..1.5 % for a blocking `record` at 10..100/s).
`record --format raw` in slices costs perftui less CPU per sample (1.2 % of a
core at 10/s vs 2.4 % for one dump a second: each dump is a fresh py-spy run)
but carries no thread state: without `active` and `owns_gil` a thread in
`time.sleep` or waiting for the GIL cannot be told from one computing (C calls
never show as frames). Right after each dump the sampler reads each thread's
/proc state, blocking syscall and read bytes, which the category table uses for
stacks that match no pattern (perftui.core.stack_categories).

Shares, top functions and per-thread state cover the thread samples of the last
`window` seconds; each dump contributes one sample per thread.

py-spy always runs as a subprocess with an argument list: no shell, never sudo.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perftui.core.stack_categories import STACK_CATEGORIES, ThreadState, classify, syscall_kind
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.pids import (
    ExitInfo,
    ProcessWatch,
    thread_read_bytes,
    thread_state,
    thread_syscall,
)

# Each dump costs ~20 ms of CPU (a py-spy process per dump; benchmarks/stacks_bench.py on the 2-core
# VM: 2.1 % of a core at 1/s, which broke the attach budget of +1 %). At 0.5/s over a 20 s window the
# shares rest on as many dumps as before (10 per thread) for half the CPU; they follow a change more
# slowly (half of it shows after ~10 s).
DEFAULT_RATE = 0.5  # dumps per second
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
    weight: int = 1
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


def parse_raw(text: str) -> list[ThreadSample]:
    """Collapsed stacks of `py-spy record --format raw` ("outer;...;leaf COUNT"), one entry per line.

    With `--threads` each line starts with "thread (TID): NAME" (then `tid` is set).
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
        if parts[0].startswith("thread (") and "): " in parts[0]:
            head, tname = parts[0].split("): ", 1)
            tid_text = head[len("thread (") :]
            tid = int(tid_text, 16) if tid_text.startswith("0x") else int(tid_text)
            parts = parts[1:]
        frames = [_parse_raw_frame(p) for p in reversed(parts)]
        out.append(ThreadSample(0, tid, tname, None, None, frames, weight=int(count)))
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


# -- aggregation --------------------------------------------------------------
class StackWindow:
    """Thread samples over a sliding window: category shares, top functions, per-thread state."""

    def __init__(self, seconds: float = DEFAULT_WINDOW) -> None:
        self.seconds = seconds
        self._ticks: deque[tuple[float, list[ThreadSample]]] = deque()

    def add(self, ts: float, samples: list[ThreadSample]) -> None:
        self._ticks.append((ts, samples))
        self.prune(ts)

    def prune(self, now: float) -> None:
        while self._ticks and self._ticks[0][0] <= now - self.seconds:
            self._ticks.popleft()

    def _all(self) -> Iterable[ThreadSample]:
        for _, samples in self._ticks:
            yield from samples

    @property
    def dumps(self) -> int:
        return len(self._ticks)

    def total(self) -> int:
        return sum(s.weight for s in self._all())

    def shares(self) -> dict[str, float]:
        counts: Counter[str] = Counter()
        for s in self._all():
            counts[s.category] += s.weight
        total = sum(counts.values())
        if total == 0:
            return {}
        return {cat: 100.0 * counts.get(cat, 0) / total for cat in STACK_CATEGORIES}

    def top(self, n: int = TOP_N) -> list[dict[str, Any]]:
        total = self.total()
        if total == 0:
            return []
        self_c: Counter[tuple[str, str]] = Counter()
        total_c: Counter[tuple[str, str]] = Counter()
        lines: dict[tuple[str, str], Counter[int]] = {}
        for s in self._all():
            if not s.frames:
                continue
            leaf = s.frames[0]
            key = (leaf.name, leaf.filename)
            self_c[key] += s.weight
            if leaf.line is not None:
                lines.setdefault(key, Counter())[leaf.line] += s.weight
            for k in {(f.name, f.filename) for f in s.frames}:
                total_c[k] += s.weight
        ranked = sorted(total_c, key=lambda k: (-self_c.get(k, 0), -total_c[k], k))
        out = []
        for k in ranked[:n]:
            line_counts = lines.get(k)
            line = line_counts.most_common(1)[0][0] if line_counts else None
            if line is None:
                line = next(
                    (f.line for s in self._all() for f in s.frames if (f.name, f.filename) == k), None
                )
            out.append(
                {
                    "function": k[0],
                    "file": k[1],
                    "line": line,
                    "self_pct": 100.0 * self_c.get(k, 0) / total,
                    "total_pct": 100.0 * total_c[k] / total,
                }
            )
        return out

    def threads(self) -> list[dict[str, Any]]:
        per: dict[tuple[int, int | None, str], list[ThreadSample]] = {}
        for s in self._all():
            per.setdefault((s.pid, s.tid, s.thread_name), []).append(s)
        out: list[dict[str, Any]] = []
        for (pid, tid, name), items in per.items():
            n = sum(s.weight for s in items)
            cats: Counter[str] = Counter()
            for s in items:
                cats[s.category] += s.weight
            last = items[-1]
            active = [s for s in items if s.active is not None]
            gil = [s for s in items if s.owns_gil is not None]
            out.append(
                {
                    "pid": pid,
                    "tid": tid,
                    "name": name,
                    "samples": n,
                    "active": last.active,
                    "owns_gil": last.owns_gil,
                    "active_pct": 100.0 * sum(1 for s in active if s.active) / len(active)
                    if active
                    else None,
                    "gil_pct": 100.0 * sum(1 for s in gil if s.owns_gil) / len(gil) if gil else None,
                    "category": cats.most_common(1)[0][0],
                    "leaf": f"{last.frames[0].name} ({last.frames[0].filename}:{last.frames[0].line})"
                    if last.frames
                    else None,
                }
            )
        out.sort(key=lambda d: (-int(d["samples"]), int(d["pid"]), int(d["tid"] or 0)))
        return out


# -- the sampler ----------------------------------------------------------------
class StackSampler(BaseSampler):
    """Dumps stacks at `rate` per second on its own thread; `sample()` aggregates the window."""

    name = "stacks"

    def __init__(
        self,
        pid: int,
        interval: float = 1.0,
        *,
        rate: float = DEFAULT_RATE,
        window: float = DEFAULT_WINDOW,
        binary: str | None = None,
        nonblocking: bool = True,
        subprocesses: bool = False,
        watch: ProcessWatch | None = None,
        proc_root: str = "/proc",
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.pid = pid
        self.background = background
        self.interval = interval
        self.rate = max(0.1, min(rate, 20.0))
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
        if self._thread is None and self._status.available:
            self._thread = threading.Thread(target=self._loop, name="perftui-py-spy", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def sample(self) -> Values:
        if self.background:
            self.start()
        elif not self._stopped:
            self._dump_guarded()  # one dump per tick (tests, one-shot commands)
        if not self._status.available:
            return {}
        with self._lock:
            self._window.prune(self._clock())
            shares = self._window.shares()
            total = self._window.total()
            if total:
                self._details = {
                    "stack.top": self._window.top(),
                    "stack.threads": self._window.threads(),
                    "stack.window": {"seconds": self._window.seconds, "dumps": self._window.dumps},
                }
        values: Values = {f"stack.share.{c}": v for c, v in shares.items()}
        if total:
            values["stack.samples"] = float(total)
        return values

    # -- the dump thread -------------------------------------------------------
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
