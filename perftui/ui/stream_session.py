"""A fleet host's session: the dashboard driven by that host's stream, read-only.

The samples come from the host's `perftui stream` (or a Prometheus window), which the fleet's
monitor writes into the host's MetricStore (perftui.fleet.state.HostState.store); this session only
reads it. Nothing runs here: no samplers, so no recording, no attach, no interval of our own (the
remote's interval is the stream's). The clock is the host's: the last tick's timestamp plus the
time since it arrived, so a skewed remote clock does not make fresh data look stale, and a stream
that stops shows its age in the panels. No Textual here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from perftui.ui.session import Session

if TYPE_CHECKING:
    from perftui.fleet.state import HostState
    from perftui.store.metric_store import MetricStore

READ_ONLY = "read-only: this is {host}'s stream ({what} is for a perftui running there)"


class HostStreamSession(Session):
    """One fleet host's store, read-only, on that host's clock."""

    can_record = False
    can_attach = False
    fixed_interval = True  # the remote's sampling interval is its own
    drives_clock = False

    def __init__(self, state: HostState, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.state = state
        self._monotonic = monotonic
        self._was_eager = state.eager
        state.keep_history()  # every tick from now on goes into the store the panels read
        super().__init__(state.store, None, clock=self._host_now)
        facts = state.facts
        remote = facts.get("host") if isinstance(facts, dict) else None
        self.meta = dict(facts) if isinstance(facts, dict) else None
        self.default_hostname = (
            state.name if not remote or remote == state.name else f"{state.name} ({remote})"
        )
        self.default_interval = state.interval_s if state.interval_s > 0 else None

    @property
    def store(self) -> MetricStore:
        return self.state.store

    def _host_now(self) -> float:
        """The host's time: its last tick's timestamp plus how long ago that tick arrived."""
        tick, at = self.state.last, self.state.received_at
        if tick is None or at is None:
            return time.time()
        return tick.ts + max(0.0, self._monotonic() - at)

    def refused(self, what: str) -> str:
        """Why `what` (recording, a report, attaching…) is not offered here (one line)."""
        return READ_ONLY.format(host=self.state.name, what=what)

    @property
    def report_name(self) -> str:
        return f"fleet-{self.state.name}"

    def header_mode(self) -> str | None:
        st = self.state
        mode = f"FLEET {st.name} · {st.status}"
        if st.error:
            mode += f": {st.error}"
        return mode + " · read-only"

    def attach(self, pid: int, start: int, interval: float) -> str | None:
        return self.refused("attaching to a process")

    def set_interval(self, seconds: float) -> float:
        return self.state.interval_s

    def close(self, timeout: float = 6.0) -> None:
        """The detail view closed: stop keeping this host's history unless a recorder wants it."""
        self.state.eager = self._was_eager
