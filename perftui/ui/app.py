"""The perftui app: one factory (`create_app`, `create_replay_app`) for the CLI, tests and screenshots.

The app holds what is app-wide: the theme, the options, the `Session` (live or replay: where the
samples come from) and the FileController (recording, reports). The dashboard itself — layout,
render tick, panel caches — is `DashboardScreen` (perftui.ui.screens.dashboard); the keys act on it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.screen import Screen

from perftui.core.limits import INTERVAL_STEPS, at_limit, next_step
from perftui.ui import keys, textual_compat
from perftui.ui.arrow_focus import ArrowFocus
from perftui.ui.driver_choice import driver_for
from perftui.ui.file_controller import FileController
from perftui.ui.messages import RecordingFailed, RecordingStopped, ReportFailed, ReportWritten
from perftui.ui.options import (
    DEFAULT_KNOBS,
    DEFAULT_OPTIONS,
    AppOptions,
    TestKnobs,
    refused_in_browser,
    web_actions_allowed,
)
from perftui.ui.screens.dashboard import DashboardScreen
from perftui.ui.session import ReplaySession, Session, speed_text
from perftui.ui.themes import all_theme_names, load_themes, perftui_variables
from perftui.ui.widgets.metric_panel import MetricPanel

if TYPE_CHECKING:
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore
    from perftui.ui.replay import ReplayDriver
    from perftui.ui.session_io import LiveRecording


class PerftuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "perftui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = keys.LIVE_BINDINGS

    def __init__(
        self,
        session: Session,
        options: AppOptions = DEFAULT_OPTIONS,
        knobs: TestKnobs = DEFAULT_KNOBS,
        *,
        recording: LiveRecording | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        hostname = options.hostname or session.default_hostname or socket.gethostname()
        self.options = replace(options, hostname=hostname)
        self.knobs = knobs
        self.files = FileController(
            self.post_message,
            lambda *args, **kwargs: self.notify(*args, **kwargs),
            hostname=hostname,
            meta=session.meta,
            recording=recording,
        )
        self.loaded_themes = options.themes if options.themes is not None else load_themes()
        for t in self.loaded_themes.themes:
            self.register_theme(t)
        self.theme_names = all_theme_names(self.loaded_themes)
        self._theme_styled: str | None = None
        self._theme_saved = options.theme  # the theme the config file gives (or the --theme flag)
        self._stop_asked_at: float | None = None  # when `r` asked to stop the recording (monotonic)
        self._arrows = ArrowFocus()
        self._start_theme(options.theme)

    @property
    def replaying(self) -> bool:
        """A replay: nothing to attach to (the process pane says so, not "run --pid")."""
        return isinstance(self.session, ReplaySession)

    @property
    def dashboard(self) -> DashboardScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    def get_default_screen(self) -> Screen[Any]:
        return DashboardScreen(self.session, self.files, self.options, self.knobs, self.size)

    # -- theme ---------------------------------------------------------------
    def _start_theme(self, theme: str) -> None:
        """Set the starting theme before anything is parsed or styled.

        Textual's theme watcher re-parses every stylesheet with the new variables and restyles every
        widget; run at mount for a theme set in __init__, it styled the whole screen twice before the
        first frame (first with Textual's default theme). Here the stylesheet gets the theme's
        variables and the app its theme classes up front, and the watcher's first call (the
        reactive's initial call at mount) finds nothing to do. A later theme change (t, the palette)
        takes Textual's path, and so does the start when the private names are gone (textual_compat).
        """
        if textual_compat.start_theme(self, theme, self._apply_theme_classes):
            self._theme_styled = theme
        else:
            self.theme = theme

    def _apply_theme_classes(self) -> None:
        # the classes Textual's theme watcher sets for a theme
        dark = self.current_theme.dark
        classes = {name: False for name in self.classes if name.startswith("-theme-")}
        classes[f"-theme-{self.current_theme.name}"] = True
        classes["-dark-mode"] = dark
        classes["-light-mode"] = not dark
        self.update_classes(classes, update=False)

    def _watch_theme(self, theme_name: str) -> None:  # Textual's watcher; see textual_compat
        styled, self._theme_styled = self._theme_styled, None
        if styled != theme_name:  # else already in the stylesheet (see _start_theme)
            textual_compat.stock_watch_theme(self, theme_name)
        self._remember_theme(theme_name)

    def _remember_theme(self, theme_name: str) -> None:
        """A theme picked with `t` or the palette goes into the config file, for the next start (a
        browser tab without --allow-actions applies it and leaves the file alone)."""
        path = self.options.config_file
        if path is None or theme_name == self._theme_saved or not web_actions_allowed():
            return
        from perftui.config import ConfigError, save_setting

        self._theme_saved = theme_name
        try:
            save_setting(path, "theme", theme_name)
        except (ConfigError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.notify(f"theme not remembered: {reason}", severity="warning", timeout=5)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        combined = {**perftui_variables(variables), **variables}
        self.theme_variables = combined
        return combined

    def get_driver_class(self) -> type[Driver]:
        """perftui's Linux driver (perftui.ui.driver) unless TEXTUAL_DRIVER names another one."""
        return driver_for(super().get_driver_class())

    # -- files: the controller's threads report here, on the UI thread -------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Toasts carry paths and reasons from outside (a cwd named `a[/]b` crashed the app): no markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_report_written(self, message: ReportWritten) -> None:
        if self.files.settle(message):
            self.notify(f"wrote {message.path}", title="report", timeout=6)

    def on_report_failed(self, message: ReportFailed) -> None:
        if self.files.settle(message):
            timeout = 5 if message.severity == "warning" else 8
            self.notify(message.reason, title="no report", severity=message.severity, timeout=timeout)  # type: ignore[arg-type]

    def on_recording_stopped(self, message: RecordingStopped) -> None:
        if self.files.settle(message):
            self.notify(f"saved {message.summary} to {message.path}", title="recording stopped", timeout=6)

    def on_recording_failed(self, message: RecordingFailed) -> None:
        if self.files.settle(message):
            self.notify(message.reason, title="recording stopped", severity="error", timeout=10)

    def stop_recording_now(self, wait_s: float = 60.0) -> None:
        """Finish the recording and the file work in threads (quit, unmount, the command's end)."""
        self.files.finish(wait_s)

    def on_unmount(self) -> None:
        self.files.finish()
        self.session.close()  # a live attach's samplers (py-spy) end with the app

    # -- actions -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_process_view":
            return self.dashboard.attached  # shown in the footer only when attached
        if action in ("slower", "faster"):
            return not self.session.fixed_interval  # a replay's interval is the recording's
        if action in keys.REPLAY_ACTIONS:
            return isinstance(self.session, ReplaySession)
        return True

    def action_quit_app(self) -> None:
        self.dashboard.stop_timer()
        self.files.finish()
        self.exit(0)

    def action_toggle_pause(self) -> None:
        if isinstance(self.session, ReplaySession):
            self.session.toggle_pause()
            self.dashboard.replay_step(0.0)
        else:
            self.dashboard.toggle_pause()

    def action_slower(self) -> None:
        self._step_interval(+1)

    def action_faster(self) -> None:
        self._step_interval(-1)

    def _step_interval(self, step: int) -> None:
        """+/-: the next step of the CLI's range in that direction, or a word that it is the limit."""
        board = self.dashboard
        if at_limit(INTERVAL_STEPS, board.interval, step):
            which = "longest" if step > 0 else "shortest"
            self.notify(f"every {board.interval:g} s is the {which} interval", timeout=3)
            return
        board.set_interval_s(next_step(INTERVAL_STEPS, board.interval, step))

    def action_focus_toward(self, direction: str) -> None:
        """Arrows: focus the panel next to the focused one in that direction (else stay)."""
        if not isinstance(self.screen, DashboardScreen):  # other screens: their own order
            if direction in ("left", "up"):
                self.action_focus_previous()
            else:
                self.action_focus_next()
            return
        self._arrows.move(self.screen, self.focused, direction)

    def action_cycle_window(self) -> None:
        self.dashboard.cycle_window()

    def action_cycle_theme(self) -> None:
        names = self.theme_names
        i = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(i + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def action_help(self) -> None:
        from perftui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_detail(self) -> None:
        from perftui.ui.screens.detail import DetailScreen

        focused = self.focused
        if not isinstance(focused, MetricPanel) or focused.id is None:
            return
        self.push_screen(DetailScreen(focused.id, self.session.store, focused.content, self.dashboard.window))

    def action_toggle_process_view(self) -> None:
        from perftui.ui.widgets.process_pane import ProcessPane

        pane = self.dashboard.one(ProcessPane)
        if not pane.attached:
            if isinstance(self.session, ReplaySession):
                self.notify("this recording followed no process: nothing to switch", timeout=3)
            else:
                self.notify("no process attached: select one in the process list and press a", timeout=3)
            return
        pane.toggle_view(self.session.store)

    def action_toggle_record(self) -> None:
        """`r`: starts a recording; stops one only when pressed again within STOP_CONFIRM_S."""
        rec = self.files.recording
        if rec is not None and not refused_in_browser(self, "recording to a file"):
            now = self.knobs.monotonic()
            asked, self._stop_asked_at = self._stop_asked_at, now
            if asked is None or now - asked > keys.STOP_CONFIRM_S:
                self.notify(
                    f"recording to {rec.path.name}: press r again to stop",
                    title="still recording",
                    timeout=keys.STOP_CONFIRM_S,
                )
                return
        self.action_record_now()

    def action_record_now(self) -> None:
        """Start or stop the recording at once (the palette's entry, the second `r`)."""
        self._stop_asked_at = None
        if refused_in_browser(self, "recording to a file"):
            return
        if self.files.recording is not None:
            self.files.stop_recording(background=True)
        elif not self.session.can_record:
            self.notify("recording is for live sessions (a replay is a recording already)", timeout=4)
            return
        else:
            self.files.start_recording(self.session.store, self.dashboard.interval)
        self.dashboard.update_header()

    def action_write_report(self) -> None:
        if refused_in_browser(self, "writing a report file"):
            return
        board = self.dashboard
        ctx = board.view_ctx()
        store = self.session.store
        t1 = ctx.now if store.last_ts is None else min(ctx.now, store.last_ts)
        timeline = list(board.tracker.timeline) if board.tracker is not None else []
        self.files.start_report(
            store,
            t0=t1 - ctx.window,
            t1=t1,
            interval=board.interval,
            timeline=timeline,
            name=self.session.report_name,
        )

    # -- replay keys (check_action hides them live) ---------------------------------
    def _replay(self, act: Callable[[ReplaySession], object]) -> None:
        if isinstance(self.session, ReplaySession):
            act(self.session)
            self.dashboard.replay_step(0.0)

    def action_seek(self, direction: int) -> None:
        self._replay(lambda s: s.seek(direction))

    def action_seek_start(self) -> None:
        self._replay(ReplaySession.seek_start)

    def action_seek_end(self) -> None:
        self._replay(ReplaySession.seek_end)

    def action_speed(self, step: int) -> None:
        if isinstance(self.session, ReplaySession):
            speed = self.session.change_speed(step)
            self.dashboard.update_header()
            self.notify(f"speed {speed_text(speed)}", timeout=2)

    def action_speed_up(self) -> None:
        self.action_speed(1)

    def action_speed_down(self) -> None:
        self.action_speed(-1)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)

        def act(name: str) -> Callable[[], object]:
            action: Callable[[], object] = getattr(self, f"action_{name}")
            return action

        yield from keys.live_commands(act)
        if isinstance(self.session, ReplaySession):
            yield from keys.replay_commands(act, self.action_seek)


class ReplayApp(PerftuiApp):
    """The same app on a ReplaySession; only its keys differ (seek, speed; no +/-)."""

    BINDINGS: ClassVar[list[BindingType]] = keys.REPLAY_BINDINGS


def create_app(
    store: MetricStore,
    runner: SamplerRunner | None = None,
    options: AppOptions = DEFAULT_OPTIONS,
    knobs: TestKnobs = DEFAULT_KNOBS,
    *,
    recording: LiveRecording | None = None,
) -> PerftuiApp:
    """The live app: CLI, Pilot tests and the screenshot script all build it here."""
    session = Session(store, runner, clock=knobs.clock or time.time, start_runner=knobs.start_runner)
    return PerftuiApp(session, options, knobs, recording=recording)


def create_replay_app(
    driver: ReplayDriver, options: AppOptions = DEFAULT_OPTIONS, knobs: TestKnobs = DEFAULT_KNOBS
) -> ReplayApp:
    """`perftui replay`'s app: the dashboard on a recording."""
    return ReplayApp(ReplaySession(driver, monotonic=knobs.monotonic), options, knobs)


CSS_FILE = Path(__file__).with_name("app.tcss")
