"""Drives the samplers in daemon threads, each at its own interval.

- never two overlapping calls of one sampler (one thread each, or one thread per
  `thread_group`: the host /proc samplers share one — their reads do not block, and
  a thread's wake-up costs ~0.15 ms of CPU on a VM, the code after it runs cold,
  so five host samplers in one thread cost about half of five threads);
- a sampler that raises gets its status set to the error and is retried
  next tick; one that blocks only stalls its own thread (and its group's: the
  store's per-source last-sample time lets the UI show them as stale);
- a deadline: a watchdog thread marks a source whose tick has run longer
  than max(5 s, 5 × interval) unavailable with "stale: <name> sample has not
  returned for N s" (N kept current); the tick's return restores its status.
  A thread stuck in a C call cannot be killed: it is only reported;
- stop() returns promptly: threads sleep on an Event;
- `hold_deferred`: samplers with `after_first_frame` (the process table, whose first pass only
  primes counters) wait for `release_deferred()` — the dashboard calls it once its first frame is
  out, so their imports and first pass do not delay that frame — or HOLD_MAX_S at most.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable

from perftui.core.limits import MAX_INTERVAL, MIN_INTERVAL
from perftui.core.types import SourceStatus
from perftui.samplers.base import Sampler
from perftui.store.metric_store import MetricStore

DEADLINE_MIN_S = 5.0  # a tick longer than max(DEADLINE_MIN_S, DEADLINE_TICKS × interval) is stale
DEADLINE_TICKS = 5.0
WATCH_PERIOD_S = 1.0  # a deadline is >= 5 s; each wake-up costs CPU
HOLD_MAX_S = 3.0  # held samplers start by then even if nobody releases them


def deadline_for(interval: float) -> float:
    return max(DEADLINE_MIN_S, DEADLINE_TICKS * interval)


def stale_reason(name: str, seconds: float) -> str:
    return f"stale: {name} sample has not returned for {int(seconds)} s"


class SamplerRunner:
    def __init__(
        self,
        store: MetricStore,
        samplers: Iterable[Sampler],
        clock: Callable[[], float] = time.time,
        *,
        hold_deferred: bool = False,
    ) -> None:
        self.store = store
        self.samplers = list(samplers)
        self._clock = clock
        self._stop = threading.Event()
        self._wake: dict[str, threading.Event] = {}  # per thread
        self._threads: list[threading.Thread] = []
        self._errors: dict[str, int] = {}
        self._lock = threading.Lock()
        self._inflight: dict[str, float] = {}  # source -> monotonic start of its running tick
        self._stale: dict[str, int] = {}  # source -> seconds last reported as stale
        self._released = threading.Event()  # held samplers may start
        if not hold_deferred:
            self._released.set()

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        groups: dict[str, list[Sampler]] = {}
        for sampler in self.samplers:
            status = sampler.availability()
            self.store.set_status(sampler.name, status)
            if not status.available:
                continue
            group = getattr(sampler, "thread_group", None) or sampler.name
            groups.setdefault(group, []).append(sampler)
        for group, members in groups.items():
            wake = self._wake[group] = threading.Event()
            t = threading.Thread(
                target=self._loop, args=(members, wake), name=f"perftui-{group}", daemon=True
            )
            self._threads.append(t)
            t.start()
        if self._threads:
            w = threading.Thread(target=self._watch, name="perftui-watchdog", daemon=True)
            self._threads.append(w)
            w.start()

    def release_deferred(self) -> None:
        """Let the samplers held back by `hold_deferred` take their first tick (any thread; idempotent)."""
        self._released.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._released.set()
        for ev in self._wake.values():
            ev.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for sampler in self.samplers:
            with contextlib.suppress(Exception):
                sampler.close()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def set_interval(self, seconds: float) -> float:
        """Change every sampler's interval (the +/- keys); returns the clamped value."""
        seconds = min(MAX_INTERVAL, max(MIN_INTERVAL, seconds))
        for sampler in self.samplers:
            sampler.interval = seconds
        for ev in self._wake.values():
            ev.set()
        return seconds

    def sample_once(self) -> None:
        """One synchronous tick of every available sampler (headless commands, tests)."""
        for sampler in self.samplers:
            status = sampler.availability()
            self.store.set_status(sampler.name, status)
            if status.available:
                self._tick(sampler)

    # -- internals -------------------------------------------------------
    def _tick(self, sampler: Sampler) -> None:
        with self._lock:
            self._inflight[sampler.name] = time.monotonic()
        try:
            try:
                values = sampler.sample()
            finally:
                with self._lock:  # a stale status set by the watchdog differs from availability():
                    self._inflight.pop(sampler.name, None)  # it is replaced below
                    self._stale.pop(sampler.name, None)
            ts = self._clock()
            self.store.append(ts, values, source=sampler.name)
            for key, value in sampler.details().items():
                self.store.set_detail(key, value)
            had_error = self._errors.pop(sampler.name, None) is not None
            status = sampler.availability()
            if had_error or status != self.store.status(sampler.name):
                # a source may turn unavailable mid-run (an attached process exits) or recover
                self.store.set_status(sampler.name, status)
        except Exception as exc:
            self._errors[sampler.name] = self._errors.get(sampler.name, 0) + 1
            self.store.set_status(
                sampler.name, SourceStatus.unavailable(f"sampling failed: {type(exc).__name__}: {exc}")
            )

    def check_deadlines(self, now: float | None = None) -> list[str]:
        """Mark every source whose tick is past its deadline as stale; returns their names."""
        now = time.monotonic() if now is None else now
        late: list[str] = []
        by_name = {s.name: s for s in self.samplers}
        with self._lock:
            for name, started in self._inflight.items():
                sampler = by_name.get(name)
                if sampler is None:
                    continue
                elapsed = now - started
                if elapsed <= deadline_for(sampler.interval):
                    continue
                late.append(name)
                if self._stale.get(name) != int(elapsed):
                    self._stale[name] = int(elapsed)
                    self.store.set_status(name, SourceStatus.unavailable(stale_reason(name, elapsed)))
        return late

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_PERIOD_S):
            with contextlib.suppress(Exception):
                self.check_deadlines()

    def _loop(self, samplers: list[Sampler], wake: threading.Event) -> None:
        if any(getattr(s, "after_first_frame", False) for s in samplers):
            self._released.wait(HOLD_MAX_S)
        while not self._stop.is_set():
            started = time.monotonic()
            for sampler in samplers:
                if self._stop.is_set():
                    return
                self._tick(sampler)
            elapsed = time.monotonic() - started
            wake.clear()
            wake.wait(max(0.0, min(s.interval for s in samplers) - elapsed))
