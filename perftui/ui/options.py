"""What the dashboard app is built from: the user's options, and the knobs tests turn.

`create_app` (perftui.ui.app) takes one `AppOptions` (what a user chose: flags, config file) and,
separately, `TestKnobs` (a fake clock, no timers, an injected tracker: tests, screenshots and
benchmarks). Both are frozen: the app copies what it changes at run time (interval, window).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from perftui.core.limits import DEFAULT_INTERVAL, DEFAULT_WINDOW
from perftui.ui.themes import DEFAULT_THEME, LoadedThemes

if TYPE_CHECKING:
    from perftui.diagnosis.tracker import DiagnosisTracker


@dataclass(frozen=True)
class AppOptions:
    """What the user chose for the app: flags and the config file."""

    interval: float | None = None  # None: DEFAULT_INTERVAL live, the recording's in a replay
    window: float = DEFAULT_WINDOW
    theme: str = DEFAULT_THEME
    themes: LoadedThemes | None = None  # loaded from the user's theme files (None: load them)
    gpu_enabled: bool = True
    hostname: str | None = None  # None: this host live, the recorded host in a replay
    config_file: Path | None = None  # a theme picked with t / the palette is saved here (None: not saved)

    def interval_or_default(self) -> float:
        return DEFAULT_INTERVAL if self.interval is None else self.interval


@dataclass(frozen=True)
class TestKnobs:
    """What tests, screenshots and benchmarks turn: a fake clock, no timers, an injected tracker."""

    __test__ = False  # not a pytest test class

    clock: Callable[[], float] | None = None  # the live session's wall clock (None: time.time)
    monotonic: Callable[[], float] = time.monotonic  # what a replay's timer measures real time with
    live_timer: bool = True  # False: nothing redraws by itself (tests call refresh_view, replay_step)
    use_tracker: bool = True  # False: no diagnosis (deterministic snapshots)
    tracker: DiagnosisTracker | None = None  # a tracker to use instead of a new one
    start_runner: bool = False  # the app starts the runner after the first frame (benchmarks)


DEFAULT_OPTIONS = AppOptions()
DEFAULT_KNOBS = TestKnobs()


# Set by `perftui web` for each browser tab's perftui: "0" turns off what acts on the box (record and
# report files, kill, attach, saving the theme) unless the server was started with --allow-actions.
WEB_ACTIONS_ENV = "PERFTUI_WEB_ACTIONS"


def web_actions_allowed() -> bool:
    return os.environ.get(WEB_ACTIONS_ENV, "1") != "0"


class _Notifies(Protocol):
    def notify(self, message: str, *, timeout: float | None = None) -> None: ...


def refused_in_browser(where: _Notifies, what: str) -> bool:
    """True, after one line saying so, when `what` (an action on the server box) is off in this tab."""
    if web_actions_allowed():
        return False
    where.notify(f"{what} is off in browser mode (start perftui web with --allow-actions)", timeout=4)
    return True
