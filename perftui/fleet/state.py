"""Per-host state: connection status, the latest tick, and a MetricStore fed from the stream.

The store has the same keys as a local one (the remote's samplers wrote them), so the dashboard's
panels and the diagnosis engine can read a remote host as they read this one; the remote verdict
is kept as the `diagnosis.current` detail and `verdict`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from perftui.core.types import SourceStatus
from perftui.fleet.protocol import Tick, Verdict
from perftui.store.metric_store import MetricStore

STORE_CAPACITY = 600
STALE_AFTER_INTERVALS = 3.0
STALE_MIN_S = 5.0

CONNECTING, UP, STALE, DOWN, BAD = "connecting", "up", "stale", "down", "bad"


@dataclass
class HostState:
    name: str
    status: str = CONNECTING
    error: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    last: Tick | None = None
    verdict: Verdict | None = None
    received_at: float | None = None  # monotonic time of the last good line
    interval_s: float = 2.0
    connects: int = 0
    ticks: int = 0
    eager: bool = False  # feed the store at each tick (a recorder listens), not when it is read
    row_cache: tuple[object, Any] | None = None  # rows.py: what it derived from `last`
    _store: MetricStore = field(default_factory=lambda: MetricStore(STORE_CAPACITY), repr=False)
    _pending: deque[Tick] = field(default_factory=lambda: deque(maxlen=1), repr=False)

    @property
    def store(self) -> MetricStore:
        """The host's MetricStore. Until something keeps its history (`keep_history`: a recording,
        an open detail view) it holds the latest tick only: feeding 100 hosts x 300 keys each
        interval into ring buffers nobody reads would cost more than the whole fleet screen."""
        while self._pending:
            self._feed(self._pending.popleft())
        return self._store

    def _feed(self, tick: Tick) -> None:
        store = self._store
        if tick.host is not None:
            store.set_detail("fleet.host", tick.host)
        store.append(tick.ts, tick.values, source="stream")
        for name, (ok, reason) in tick.sources.items():
            store.set_status(name, SourceStatus(ok, reason))
        if tick.verdict is not None:
            store.set_detail("diagnosis.current", tick.verdict.__dict__.copy())

    def apply(self, tick: Tick, now: float) -> None:
        if tick.host is not None:
            self.facts = tick.host
        if self.eager:
            self.store  # noqa: B018 - drains what is pending, in order
            self._feed(tick)
        else:
            self._pending.append(tick)
        self.last = tick
        self.verdict = tick.verdict
        self.interval_s = tick.interval_s
        self.received_at = now
        self.ticks += 1
        self.status = UP
        self.error = None

    def keep_history(self) -> None:
        """From now on every tick goes into the store as it arrives."""
        self.store  # noqa: B018 - the latest tick first
        self.eager = True

    def fail(self, message: str, status: str = DOWN) -> None:
        self.status = status
        self.error = message

    def age(self, now: float) -> float | None:
        return None if self.received_at is None else max(0.0, now - self.received_at)

    def stale_after(self) -> float:
        return max(STALE_MIN_S, STALE_AFTER_INTERVALS * self.interval_s)

    def refresh(self, now: float) -> None:
        """Mark an up host stale when its stream has said nothing for a while."""
        age = self.age(now)
        if self.status == UP and age is not None and age > self.stale_after():
            self.status = STALE
            self.error = f"no data for {age:.0f} s"
