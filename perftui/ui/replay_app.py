"""`perftui replay FILE`: the dashboard driven by a recording (see perftui.ui.replay.ReplayDriver).

Same panels, same diagnosis pane and tracker as live: the tracker runs on the replayed store in
store time, so the verdicts are recomputed from the recorded data. Keys: p pause, ← → seek
±10 s, home/end, ] [ faster/slower; the header says REPLAY, the file, the position and the speed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from perftui.ui.app import MAX_RENDER_HZ, PerftuiApp
from perftui.ui.replay import SEEK_STEP_S, ReplayDriver, clock_text

STEP_S = 1.0 / MAX_RENDER_HZ


def _speed(s: float) -> str:
    return f"{s:g}×"


class ReplayApp(PerftuiApp):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_pause", "Pause"),
        Binding("left", "seek(-1)", "-10 s", key_display="←", priority=True),
        Binding("right", "seek(1)", "+10 s", key_display="→", priority=True),
        Binding("home", "seek_start", "Start", show=False),
        Binding("end", "seek_end", "End", show=False),
        Binding("right_square_bracket", "speed(1)", "Faster", key_display="]"),
        Binding("left_square_bracket", "speed(-1)", "Slower", key_display="["),
        Binding("r", "toggle_record", "Record", show=False),
    ]

    def __init__(
        self,
        driver: ReplayDriver,
        *,
        live_timer: bool = True,
        monotonic: Any = time.monotonic,
        **kwargs: Any,
    ) -> None:
        rec = driver.rec
        kwargs.setdefault("hostname", str(rec.meta.get("host") or "recorded host"))
        interval = rec.meta.get("interval_s")
        if isinstance(interval, (int, float)) and interval > 0:
            kwargs.setdefault("interval", float(interval))
        super().__init__(
            driver.store, None, clock=driver.now, live_timer=False, meta=dict(rec.meta), **kwargs
        )
        self.driver = driver
        self.replay_timer = live_timer
        self._monotonic = monotonic
        self._last_wall: float | None = None
        self._replay_tick: Timer | None = None
        self._seen_seeks = driver.seeks

    # -- driving -----------------------------------------------------------
    def on_mount(self) -> None:
        super().on_mount()
        if self.replay_timer:
            self._last_wall = self._monotonic()
            self._replay_tick = self.set_interval(STEP_S, self._on_replay_timer, name="replay")

    def _on_replay_timer(self) -> None:
        now = self._monotonic()
        last = self._last_wall if self._last_wall is not None else now
        self._last_wall = now
        self.replay_step(now - last)

    def replay_step(self, wall_seconds: float) -> None:
        """Advance the replay by `wall_seconds` of real time and redraw (the timer; tests call it)."""
        self.driver.advance(wall_seconds)
        self._sync_store()
        self.refresh_view()
        self._update_header()

    def _sync_store(self) -> None:
        if self.driver.seeks != self._seen_seeks:
            # a seek built a new store: the panels read it from now on, the diagnosis starts over
            self._seen_seeks = self.driver.seeks
            self.store = self.driver.store
            self._last_sig = None
            self._last_diag = -math.inf
            if self.tracker is not None:
                self.tracker.reset()

    # -- what the base app asks --------------------------------------------
    def header_mode(self) -> str | None:
        d = self.driver
        parts = [
            f"REPLAY {d.rec.path.name}",
            f"{clock_text(d.elapsed)} / {clock_text(d.duration)}",
            _speed(d.speed),
        ]
        if d.paused:
            parts.append("PAUSED")
        elif d.at_end:
            parts.append("END")
        return " · ".join(parts)

    @property
    def can_record(self) -> bool:
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("slower", "faster"):
            return False  # the interval is the recording's
        return super().check_action(action, parameters)

    def report_source_name(self) -> str:
        return self.driver.rec.path.name

    # -- keys --------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        d = self.driver
        if d.paused or not d.at_end:
            d.paused = not d.paused
        else:  # at the end: p plays it again from the start
            d.seek(d.start)
            d.paused = False
        self._last_wall = self._monotonic()
        self.replay_step(0.0)

    def _after_seek(self) -> None:
        self._last_wall = self._monotonic()
        self.replay_step(0.0)

    def action_seek(self, direction: int) -> None:
        self.driver.seek_by(direction * SEEK_STEP_S)
        self._after_seek()

    def action_seek_start(self) -> None:
        self.driver.seek(self.driver.start)
        self._after_seek()

    def action_seek_end(self) -> None:
        self.driver.seek(self.driver.end)
        self._after_seek()

    def action_speed(self, step: int) -> None:
        speed = self.driver.change_speed(step)
        self._update_header()
        self.notify(f"speed {_speed(speed)}", timeout=2)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Replay: pause / play", "Pause or resume the replay (p)", self.action_toggle_pause
        )
        yield SystemCommand("Replay: back 10 s", "Seek back (←)", lambda: self.action_seek(-1))
        yield SystemCommand("Replay: forward 10 s", "Seek forward (→)", lambda: self.action_seek(1))
        yield SystemCommand("Replay: start", "Seek to the start (home)", self.action_seek_start)
        yield SystemCommand("Replay: end", "Seek to the end (end)", self.action_seek_end)
        yield SystemCommand("Replay: faster", "Speed up (])", lambda: self.action_speed(1))
        yield SystemCommand("Replay: slower", "Slow down ([)", lambda: self.action_speed(-1))


def create_replay_app(driver: ReplayDriver, **kwargs: Any) -> ReplayApp:
    return ReplayApp(driver, **kwargs)
