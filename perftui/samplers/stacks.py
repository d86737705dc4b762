"""The "stacks" sampler: Python stacks of an attached process via the py-spy binary.

Two backends. "record" is the default, chosen by measurement (the figures, and those behind one
py-spy per process of the tree, are in `perftui.samplers.stack_slice`).

record: one long-lived `py-spy record` per sampled process and slice (2 s first, so that shares
show soon, then 10 s; `perftui.samplers.stack_slice`), parsed by `parse_raw`. The sampled
processes are the attached one and the Python processes of its tree (`subprocesses`, on by
default; `perftui.samplers.stack_tree`): each thread sample keeps its PID. A py-spy start costs
~20 ms of CPU and a sample under 1 ms, so one process per slice instead of one per dump is where
the saving is (at 5/s the samples eat most of it). Raw output
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
fresh py-spy every time, one per process of the tree); right after each dump the sampler reads
each thread's /proc state, blocking syscall and read bytes for the stacks that match no pattern.
Kept as `backend="dump"`; one-shot use (`background=False`: one dump per `sample()`) always dumps.
In the record backend the dumps (GIL check, first shares) are of the attached process only.

Nonblocking never stops the target (extra stall time measured at +0.02 % of wall for dumps at 1/s,
vs +0.8..1.5 % for a blocking `record` at 10..100/s). py-spy always runs as a subprocess with an
argument list: no shell, never sudo. close() kills and reaps a running slice and removes the
slices' temporary folder. When the process exits mid-slice, py-spy ends the slice and its samples
are kept (published once more while the status says when and how the process exited). A
descendant that exits mid-slice just ends its py-spy early; one py-spy cannot sample (not Python)
is left out from then on.

Where the parts live: talking to py-spy and parsing its output in `perftui.samplers.pyspy`, a
slice's py-spy processes in `perftui.samplers.stack_slice`, the processes of the tree in
`perftui.samplers.stack_tree`, the /proc thread state and its attribution to samples in
`perftui.samplers.thread_state`, the window in `perftui.samplers.stack_window`; this module holds
the sampler and its loops.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.pids import ExitInfo, ProcessWatch
from perftui.samplers.pyspy import (
    INSTALL_HINT,
    PySpyError,
    ThreadSample,
    explain_failure,
    find_py_spy,
    parse_raw,
    run_dump,
)
from perftui.samplers.stack_slice import RecordSlice
from perftui.samplers.stack_tree import NEVER_SAMPLED, ProcessTree
from perftui.samplers.stack_window import DEFAULT_WINDOW, StackWindow
from perftui.samplers.thread_state import (
    ReadHistory,
    annotate,
    attribute_states,
    cpu_shares,
    gil_evidence,
    gil_proxy_ok,
    poll_round,
    thread_cpu_ns,
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


# -- the sampler ----------------------------------------------------------------
class StackSampler(BaseSampler):
    """Samples stacks on its own thread (see the module doc); `sample()` aggregates the window.

    `backend`: "record" (long-lived `py-spy record` slices, `rate` samples per second, an integer;
    slices of `first_slice_seconds`, then `slice_seconds`; a dump before the first slice and every
    `dump_every`-th one) or "dump" (one `py-spy dump` each 1/`rate` s). `rate` None: the backend's
    default. With `background=False` (tests, one-shot commands) each `sample()` takes one dump,
    whatever the backend; `record_slice()` runs one slice in the caller's thread. `subprocesses`
    (default): the Python processes of the tree are sampled too, at most `max_processes`.
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
        subprocesses: bool = True,
        max_processes: int | None = None,
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
        self.backend = backend
        if self.backend == "record":
            self.rate = float(max(1, min(round(rate if rate is not None else RECORD_RATE), 100)))
        elif rate is None:
            self.rate = DUMP_RATE
        else:
            self.rate = max(0.1, min(rate, 20.0))
        self.slice_seconds = max(1, int(slice_seconds))
        self.first_slice_seconds = max(1, min(int(first_slice_seconds), self.slice_seconds))
        self.dump_every = max(1, int(dump_every))
        self.binary = binary if binary is not None else find_py_spy()
        self.nonblocking = nonblocking
        self.subprocesses = subprocesses
        self.tree = ProcessTree(pid, subprocesses=subprocesses, limit=max_processes)
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
        self._slice_lock = threading.Lock()
        self._slice: RecordSlice | None = None  # the running record slice
        self._closed = False
        self._slices = 0  # record slices started
        self._slices_done = 0
        self._gil_seen: dict[int, deque[bool]] = {}  # gil_evidence of the last dumps
        self._keys: list[tuple[int, int]] = []  # (pid, tid) of the Python threads to poll
        self._sampled: list[int] = [pid]  # the processes of the last slice or dump
        self.last_error: PySpyError | None = None
        if self.binary is None:
            self._status = SourceStatus.unavailable(f"py-spy not found: {INSTALL_HINT}")
        elif self.watch.create_time is None:
            self._status = SourceStatus.unavailable(f"no process with PID {pid}")
        else:
            self._status = SourceStatus.ok()

    @property
    def _tmpdir(self) -> str | None:
        """The running slice's folder (None between slices)."""
        with self._slice_lock:
            return None if self._slice is None else self._slice.folder

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
        with self._slice_lock:
            running = self._slice
        if running is not None:
            running.kill()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._slice_lock:
            running, self._slice = self._slice, None
        if running is not None:  # the thread did not finish in time: reap it here
            running.reap()
            running.remove()

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
                        "processes": len(self._sampled),
                        "processes_left_out": self.tree.left_out,
                    },
                }
        values: Values = {f"stack.share.{c}": v for c, v in shares.items()}
        if total:
            values["stack.samples"] = float(total)
        return values

    # -- the dump backend --------------------------------------------------------
    def dump_once(self, *, tree: bool | None = None) -> list[ThreadSample]:
        """One dump of the attached process (and, with `tree`, default: the dump backend, of each
        process of its tree), annotated and added to the window (raises PySpyError)."""
        assert self.binary is not None
        samples = run_dump(self.binary, self.pid, nonblocking=self.nonblocking)
        pids = [self.pid]
        if (self.backend == "dump") if tree is None else tree:
            for pid in self.tree.pids()[1:]:
                try:
                    samples += run_dump(self.binary, pid, nonblocking=self.nonblocking)
                except PySpyError as exc:  # a descendant that exited, or that py-spy cannot read
                    if exc.kind in NEVER_SAMPLED:
                        self.tree.skip(pid)
                    continue
                pids.append(pid)
            self._sampled = pids
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
            samples = self.dump_once(tree=False)
            known = {(s.pid, s.tid) for s in samples if s.tid is not None and s.pid}
            self._keys = sorted(known.union(k for k in self._keys if k[0] != self.pid))
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

    def _run_record(
        self, seconds: int, keys: list[tuple[int, int]], gil_proxy: Mapping[int, bool]
    ) -> list[ThreadSample]:
        if self._closed:
            raise PySpyError("stack sampling was closed", "failed")
        assert self.binary is not None
        pids = self.tree.pids()
        # a folder per slice, removed when the slice ends (and by close() if it is still there)
        rec = RecordSlice(self.binary, pids, seconds, self.rate, self.nonblocking)
        with self._slice_lock:
            self._slice = rec
        self._slices += 1
        try:
            if not rec.start() or self._closed:
                return []
            cpu0 = {k: (time.monotonic(), thread_cpu_ns(*k, self.proc_root)) for k in keys}
            polls, t0, t1 = rec.poll_threads(keys, self.proc_root, self._reads, self._stop, self._clock)
            cpu_share = cpu_shares(cpu0, self.proc_root)
            if self._stop.is_set():
                return []
            outputs = rec.outputs()
        finally:
            rec.reap()
            rec.remove()
            with self._slice_lock:
                self._slice = None
        samples: list[ThreadSample] = []
        sampled: list[int] = []
        for out in outputs:
            if out.returncode != 0:
                if out.pid == self.pid:
                    raise explain_failure(self.pid, out.returncode, out.log)
                if explain_failure(out.pid, out.returncode, out.log).kind in NEVER_SAMPLED:
                    self.tree.skip(out.pid)
                continue  # a descendant that exited mid-slice, or that py-spy cannot read
            samples += parse_raw(out.text, out.pid)
            sampled.append(out.pid)
        self._sampled = sampled
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
