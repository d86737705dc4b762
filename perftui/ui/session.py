"""Where the dashboard's samples come from: a live session or a replayed recording.

The dashboard (perftui.ui.screens.dashboard) and the app read a `Session`; live and replay differ
only here: which store and clock, whether recording is possible, what a report is named, what the
header says, whether the interval can change and who moves the clock. No Textual here.

A live session can attach to a process while it runs (the process list's `a`): the process and
stacks samplers start in a runner of their own beside the running one, and detaching stops them
and clears what they left in the store, so the pane goes back to the list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the live dashboard does not load the replay's modules
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore
    from perftui.ui.replay import ReplayDriver


class Session:
    """The live session: samplers write `store`; the wall clock is `now`."""

    can_record = True  # a replay is a recording already
    can_attach = True  # a replay cannot start samplers
    fixed_interval = False  # a replay's interval is the recording's
    drives_clock = False  # a replay moves its clock on the dashboard's timer (`advance`)

    def __init__(
        self,
        store: MetricStore,
        runner: SamplerRunner | None = None,
        *,
        clock: Callable[[], float] = time.time,
        start_runner: bool = False,
    ) -> None:
        self._store = store
        self.runner = runner
        self.now = clock
        self.start_runner = start_runner
        self.meta: dict[str, Any] | None = None  # system metadata (computed on first use)
        self.default_hostname: str | None = None
        self.default_interval: float | None = None
        self.live_pid: int | None = None  # attached with `a` (None: not, or attached by --pid)
        self.hide_attached = False  # detached: what the process samplers left is not shown
        self._attach_runner: SamplerRunner | None = None
        self._stopping: threading.Thread | None = None

    @property
    def store(self) -> MetricStore:
        return self._store

    @property
    def attached_at_start(self) -> bool:
        """Attached by --pid: those samplers run in the main runner and stay for the session."""
        return self.runner is not None and any(s.name == "process" for s in self.runner.samplers)

    def attach(self, pid: int, start: int, interval: float) -> str | None:
        """Follow `pid` (listed with start time `start`) from now on; None, or why not (one line)."""
        from perftui.samplers.proctable import start_ticks

        if self.runner is None:
            return "no live samplers: nothing can be attached here"
        if self.attached_at_start:
            return "already attached with --pid: start perftui without --pid to pick from the list"
        if self._stopping is not None and self._stopping.is_alive():
            return "still detaching from the last process: try again in a moment"
        now = start_ticks(pid)
        if now is None:
            return f"PID {pid} has exited: not attached"
        if now != start:
            return f"PID {pid} is now a different process (the PID was reused): not attached"
        from perftui.samplers.pids import validate_pid

        error = validate_pid(pid)
        if error is not None:
            return error
        from perftui.samplers.factory import attach_set
        from perftui.samplers.runner import SamplerRunner

        if self._attach_runner is not None:
            self.detach()
        _forget_attached(self.store)
        runner = SamplerRunner(self.store, attach_set(pid, interval, self.runner.samplers), clock=self.now)
        self._attach_runner, self.live_pid, self.hide_attached = runner, pid, False
        runner.start()
        return None

    def detach(self) -> bool:
        """Stop following the process attached with `a`; False when there was none. The samplers
        stop on a thread (py-spy's slice can take seconds to reap); the pane shows the list at once."""
        runner, self._attach_runner = self._attach_runner, None
        if runner is None:
            return False
        self.live_pid, self.hide_attached = None, True
        store = self.store

        def stop() -> None:
            runner.stop(timeout=6.0)
            _forget_attached(store)

        self._stopping = threading.Thread(target=stop, name="perftui-detach", daemon=True)
        self._stopping.start()
        return True

    def close(self, timeout: float = 6.0) -> None:
        """The session ends: stop a live attach's samplers (and their py-spy) before exit."""
        self.detach()
        if self._stopping is not None:
            self._stopping.join(timeout)

    @property
    def generation(self) -> int:
        """Changes when `store` is a new one (a replay's seek): the dashboard starts over."""
        return 0

    @property
    def report_name(self) -> str:
        return "live"

    def header_mode(self) -> str | None:
        """What goes before the host name in the header."""
        return None

    def set_interval(self, seconds: float) -> float:
        if self._attach_runner is not None:
            self._attach_runner.set_interval(seconds)
        return self.runner.set_interval(seconds) if self.runner is not None else seconds

    def advance(self, wall_seconds: float | None = None) -> None:
        """Move the clock by `wall_seconds` of real time (None: the time since the last call)."""


def _forget_attached(store: MetricStore) -> None:
    store.forget_source("process", ("proc.info", "proc.tree"))
    store.forget_source("stacks", ("stack.",))


def speed_text(s: float) -> str:
    return f"{s:g}×"


class ReplaySession(Session):
    """A recording fed into a store at the replay's speed (perftui.ui.replay.ReplayDriver)."""

    can_record = False
    can_attach = False
    fixed_interval = True
    drives_clock = True

    def __init__(self, driver: ReplayDriver, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(driver.store, None, clock=driver.now)
        self.driver = driver
        self._monotonic = monotonic
        self._last_wall: float | None = None
        rec = driver.rec
        self.meta = dict(rec.meta)
        self.default_hostname = str(rec.meta.get("host") or "recorded host")
        interval = rec.meta.get("interval_s")
        if isinstance(interval, (int, float)) and interval > 0:
            self.default_interval = float(interval)

    @property
    def store(self) -> MetricStore:
        return self.driver.store

    @property
    def generation(self) -> int:
        return self.driver.seeks

    @property
    def report_name(self) -> str:
        return self.driver.rec.path.name

    def header_mode(self) -> str | None:
        from perftui.ui.replay import clock_text

        d = self.driver
        parts = [
            f"REPLAY {d.rec.path.name}",
            f"{clock_text(d.elapsed)} / {clock_text(d.duration)}",
            speed_text(d.speed),
        ]
        if d.paused:
            parts.append("PAUSED")
        elif d.at_end:
            parts.append("END")
        return " · ".join(parts)

    def advance(self, wall_seconds: float | None = None) -> None:
        if wall_seconds is None:
            now = self._monotonic()
            last = self._last_wall if self._last_wall is not None else now
            self._last_wall = now
            wall_seconds = now - last
        self.driver.advance(wall_seconds)

    def restart_wall(self) -> None:
        """After a key (pause, seek): real time counts from now."""
        self._last_wall = self._monotonic()

    # -- the replay's keys ---------------------------------------------------------
    def toggle_pause(self) -> None:
        d = self.driver
        if d.paused or not d.at_end:
            d.paused = not d.paused
        else:  # at the end: p plays it again from the start
            d.seek(d.start)
            d.paused = False
        self.restart_wall()

    def seek(self, direction: int) -> None:
        from perftui.ui.replay import SEEK_STEP_S

        self.driver.seek_by(direction * SEEK_STEP_S)
        self.restart_wall()

    def seek_start(self) -> None:
        self.driver.seek(self.driver.start)
        self.restart_wall()

    def seek_end(self) -> None:
        self.driver.seek(self.driver.end)
        self.restart_wall()

    def change_speed(self, step: int) -> float:
        return self.driver.change_speed(step)
