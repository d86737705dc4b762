"""The perftui dashboard app: one factory (`create_app`) for the CLI, the tests and the screenshots.

Sampling and rendering are independent: samplers write the store from their threads; the app
reads it on its own timer (every max(0.25 s, interval): at most 4 Hz) and each panel redraws only
the cells that changed. The app never calls psutil, NVML or py-spy.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.driver import Driver
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Static

from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore, capacity_for
from perftui.ui import panels
from perftui.ui.layout import MIN_SIZE, WIDE, arrange_gpu_grid, gpu_classes, screen_classes, size_classes
from perftui.ui.panels import PanelContent, ViewCtx
from perftui.ui.themes import DEFAULT_THEME, LoadedThemes, all_theme_names, load_themes, perftui_variables
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.header import HeaderBar, header_text
from perftui.ui.widgets.metric_panel import Builder, MetricPanel
from perftui.ui.widgets.process_pane import ProcessPane

if TYPE_CHECKING:
    from perftui.ui.session_io import LiveRecording

INTERVALS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
WINDOWS = (60.0, 300.0, 900.0)
MAX_RENDER_HZ = 4.0
DIAG_PERIOD_S = 2.0  # the verdict reads a 10 s window: every 2 s is current enough, and half the cost
DIAG_WINDOW_S = 10.0

_W = TypeVar("_W", bound=Widget)

HOST_PANELS: tuple[tuple[str, str, Builder], ...] = (
    ("cpu", "CPU", panels.cpu_content),
    ("memory", "Memory · PSI", panels.memory_content),
    ("disk", "Disks", panels.disk_content),
    ("net", "Network", panels.net_content),
)


def make_tracker() -> Any | None:
    """The diagnosis tracker if its module exists; the pane says so otherwise."""
    try:
        from perftui.diagnosis.tracker import DiagnosisTracker
    except ImportError:
        return None
    return DiagnosisTracker(hold_s=3.0)


def _next(values: tuple[float, ...], current: float, step: int) -> float:
    if step > 0:
        bigger = [v for v in values if v > current + 1e-9]
        return bigger[0] if bigger else values[-1]
    smaller = [v for v in values if v < current - 1e-9]
    return smaller[-1] if smaller else values[0]


MAX_PANEL_WEIGHT = 12  # rows; a panel with more shows "+N more" and its detail view has all


class PromptFooter(Footer):
    """Textual's Footer, with its keys in the very first frame: the stock one waits for a
    bindings-updated signal and then recomposes a refresh later (~0.15 s after the first paint)."""

    def __init__(self) -> None:
        super().__init__()
        self._bindings_ready = True  # the app's and screen's bindings are known at compose time


class PerftuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "perftui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_app", "Quit"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("plus", "slower", "+Interval", key_display="+"),
        Binding("minus", "faster", "-Interval", key_display="-"),
        Binding("w", "cycle_window", "Window"),
        Binding("enter", "detail", "Detail"),
        Binding("t", "cycle_theme", "Theme"),
        Binding("r", "toggle_record", "Record"),
        Binding("s", "write_report", "Report"),
        Binding("v", "toggle_process_view", "View"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("left,up", "app.focus_previous", "Focus", show=False),
        Binding("right,down", "app.focus_next", "Focus", show=False),
    ]

    def __init__(
        self,
        store: MetricStore,
        runner: SamplerRunner | None = None,
        *,
        interval: float = 1.0,
        window: float = 60.0,
        theme: str = DEFAULT_THEME,
        themes: LoadedThemes | None = None,
        gpu_enabled: bool = True,
        hostname: str | None = None,
        clock: Callable[[], float] = time.time,
        live_timer: bool = True,
        tracker: Any | None = None,
        use_tracker: bool = True,
        start_runner: bool = False,
        recording: LiveRecording | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.runner = runner
        self.interval = interval
        self.window = window
        self.gpu_enabled = gpu_enabled
        self.hostname = hostname or socket.gethostname()
        self.wall_clock = clock
        self.live_timer = live_timer
        self.paused = False
        self.start_runner = start_runner
        self.loaded_themes = themes if themes is not None else load_themes()
        for t in self.loaded_themes.themes:
            self.register_theme(t)
        self.theme_names = all_theme_names(self.loaded_themes)
        self._theme_styled: str | None = None
        self._start_theme(theme)
        # the diagnosis modules load after the first frame (~30 ms of imports off the start-up path)
        self.tracker = tracker
        self._tracker_wanted = tracker is None and use_tracker
        self._timer: Timer | None = None
        self._term_size: tuple[int, int] | None = None
        self._last_sig: tuple[Any, ...] | None = None
        self._panel_cache: list[MetricPanel] | None = None
        self._singletons: dict[type[Any], Any] = {}
        self._requery = 0  # ticks left before the panel list is trusted again after a layout change
        self._last_diag = -math.inf
        self._gpu_ids: list[int] | None = None
        self._weights: dict[str, int] = {}
        self.ticks = 0
        self.recording = recording  # --record FILE, or r
        self.meta = meta  # system metadata for recordings and reports (computed on first use)
        self.reports_written: list[Path] = []
        self.recordings_made: list[Path] = [] if recording is None else [recording.path]
        self.pending_work: list[threading.Event] = []  # file work in threads that quit waits for
        self._attached = False

    # -- composition -------------------------------------------------------
    def compose(self) -> ComposeResult:
        # The first layout is built in place, for the GPUs already known and the terminal's size:
        # classes set after mounting restyle the whole screen, and panels mounted on the first tick
        # would miss the first frame. `_ensure_layout` handles GPUs that appear (or go) later.
        ids = self._initial_gpu_ids()
        host = [MetricPanel(b, id=p, title=t) for p, t, b in HOST_PANELS]
        yield HeaderBar()
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield from host[:2]
                if ids:
                    yield from host[2:]
            with Vertical(id="right"):
                gpus = self._gpu_panels(ids)
                with Container(id="gpus") as box:
                    yield from gpus
                if ids:
                    w, h = self.size
                    arrange_gpu_grid(box, gpus, w, h)
                else:
                    yield from host[2:]
        with Horizontal(id="bottom"):
            yield DiagnosisPane()
            yield ProcessPane()
        yield Static(id="too-small")
        yield PromptFooter()

    def _initial_gpu_ids(self) -> list[int]:
        if self._gpu_ids is None:
            self._gpu_ids = panels.gpu_indices(self.store) if self.gpu_enabled else []
        return self._gpu_ids

    def _gpu_panels(self, ids: list[int]) -> list[MetricPanel]:
        if ids:
            return [MetricPanel(partial(panels.gpu_content, i=i), id=f"gpu-{i}") for i in ids]
        builder = partial(panels.no_gpu_content, disabled=not self.gpu_enabled)
        return [MetricPanel(builder, id="gpu-none", title="GPU")]

    def _start_theme(self, theme: str) -> None:
        """Set the starting theme before anything is parsed or styled.

        Textual's theme watcher re-parses every stylesheet with the new variables and restyles every
        widget; run at mount for a theme set in __init__, it styled the whole screen twice before the
        first frame (first with Textual's default theme). Here the stylesheet gets the theme's
        variables and the app its theme classes up front, and the watcher's first call (the
        reactive's initial call at mount) finds nothing to do. A later theme change (t, the palette)
        takes Textual's path.
        """
        self.set_reactive(App.theme, self._validate_theme(theme))
        self._apply_theme_classes()
        self.stylesheet.set_variables(self.get_css_variables())
        self._theme_styled = theme

    def _apply_theme_classes(self) -> None:
        # the classes and the ANSI filter Textual's `_watch_theme` sets for a theme
        dark = self.current_theme.dark
        classes = {name: False for name in self.classes if name.startswith("-theme-")}
        classes[f"-theme-{self.current_theme.name}"] = True
        classes["-dark-mode"] = dark
        classes["-light-mode"] = not dark
        self.update_classes(classes, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)

    def _watch_theme(self, theme_name: str) -> None:
        styled, self._theme_styled = self._theme_styled, None
        if styled != theme_name:  # else already in the stylesheet (see _start_theme)
            super()._watch_theme(theme_name)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        combined = {**perftui_variables(variables), **variables}
        self.theme_variables = combined
        return combined

    def on_mount(self) -> None:
        if self._tracker_wanted:
            self._one(DiagnosisPane).show_message("diagnosis: waiting for samples")
            self.call_after_refresh(self._load_tracker)
        self._apply_size()
        self.refresh_view()
        if self.live_timer:
            self._start_timer()
        first = self.query(MetricPanel).first()
        first.focus()
        if self.start_runner and self.runner is not None:
            # samplers start once the first frame is out (the perftui command starts them earlier,
            # on a thread of their own, while Textual starts up)
            self.call_after_refresh(self.runner.start)
        if self.runner is not None and self.live_timer:
            # show the first values as soon as they land, not a whole render period later
            for delay in (0.15, 0.35, 0.7):
                self.set_timer(delay, self.refresh_view)

    def _load_tracker(self) -> None:
        if self._tracker_wanted:
            self._tracker_wanted = False
            self.tracker = make_tracker()
            self._last_diag = -math.inf
            self._run_diagnosis(self.view_ctx(), show=not (self.paused or self.too_small))

    def _start_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        period = max(1.0 / MAX_RENDER_HZ, self.interval)
        self._timer = self.set_interval(period, self.refresh_view, name="render")

    # -- layout ------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    @property
    def too_small(self) -> bool:
        w, h = self._term_size or self.size
        return w < MIN_SIZE[0] or h < MIN_SIZE[1]

    def _apply_size(self, w: int | None = None, h: int | None = None) -> None:
        if w is None or h is None:
            w, h = self.size
        self._term_size = (w, h)
        small = self.too_small
        main = self._main_screen()
        for name, on in size_classes(w, h).items():
            main.set_class(on, name)
        if small:
            self.query_one("#too-small", Static).update(
                f"terminal too small: {w}×{h}\nperftui needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}\n(q quits)"
            )
        else:
            self._arrange_gpus()
            if self._gpu_ids is not None:
                self.refresh_view()

    def _main_screen(self) -> Screen[Any]:
        return self.screen_stack[0]

    def _ensure_layout(self) -> None:
        """Mount GPU panels for the GPUs the store knows now; move disks/net to where they fit."""
        ids = panels.gpu_indices(self.store) if self.gpu_enabled else []
        if ids == self._gpu_ids:
            return
        self._requery = 2
        had_gpus = bool(self._gpu_ids)
        self._gpu_ids = ids
        main = self._main_screen()
        for name, on in gpu_classes(ids).items():
            main.set_class(on, name)
        gpus = main.query_one("#gpus", Container)
        gpus.remove_children()
        gpus.mount_all(self._gpu_panels(ids))
        if had_gpus != bool(ids):
            # no GPU: disks and network go under the GPU notice; with GPUs: under memory
            for pid in ("disk", "net"):
                for old in main.query(f"#{pid}"):
                    old.remove()
            target = main.query_one("#left" if ids else "#right")
            target.mount_all(MetricPanel(b, id=p, title=t) for p, t, b in HOST_PANELS[2:])
        self._arrange_gpus()

    def _arrange_gpus(self) -> None:
        ids = self._gpu_ids or []
        if not ids:
            return
        main = self._main_screen()
        term_w, term_h = self._term_size or self.size
        main.set_class(term_w >= WIDE, "-wide")
        gpus = main.query_one("#gpus", Container)
        arrange_gpu_grid(gpus, gpus.query(MetricPanel), term_w, term_h)

    def _reweight(self) -> None:
        """Share each column's height by the rows each panel wants (fr weights)."""
        changed = False
        for panel in self._panels():
            if panel.id is None or (panel.id.startswith("gpu-") and panel.id != "gpu-none"):
                continue
            # capped, so 32 disks or 64 NICs cannot squeeze CPU and memory down to a border
            want = min(panel.natural_height(), MAX_PANEL_WEIGHT)
            if self._weights.get(panel.id) != want:
                self._weights[panel.id] = want
                panel.styles.height = f"{want}fr"
                changed = True
        if changed:
            none = self._main_screen().query("#gpu-none")
            gpus = self._main_screen().query_one("#gpus", Container)
            if none:
                gpus.styles.height = f"{self._weights.get('gpu-none', 3)}fr"
            else:
                gpus.styles.height = "1fr"

    # -- the render tick -----------------------------------------------------
    def view_ctx(self) -> ViewCtx:
        return ViewCtx(now=self.wall_clock(), window=self.window, interval=self.interval)

    def refresh_view(self) -> None:
        """Read the store once and update every visible widget (only what changed redraws)."""
        if self.recording is not None:
            self._check_recording()
        if self.paused or self.too_small:
            if self.recording is not None:  # the timeline goes on into the file
                self._run_diagnosis(self.view_ctx(), show=False)
            return
        ctx = self.view_ctx()
        sig = self._signature(ctx)
        if sig == self._last_sig:
            return  # nothing new in the store, no source went stale: nothing to redraw
        self._last_sig = sig
        self.ticks += 1
        self._ensure_layout()
        for panel in self._panels():
            panel.update_view(self.store, ctx)
        self._reweight()
        self._update_header()
        pane = self._one(ProcessPane)
        pane.update_view(self.store)
        if pane.attached != self._attached:
            self._attached = pane.attached
            self.refresh_bindings()
        self._update_diagnosis(ctx)
        screen = self.screen
        from perftui.ui.screens.detail import DetailScreen

        if isinstance(screen, DetailScreen):
            screen.update_view(self.store, self._panel_content(screen.panel_id), self.window)

    def _panels(self) -> list[MetricPanel]:
        """The metric panels, queried again only after a layout change (queries cost per tick)."""
        if self._panel_cache is None or self._requery > 0:
            self._requery = max(0, self._requery - 1)
            self._panel_cache = list(self._main_screen().query(MetricPanel))
        return self._panel_cache

    def _one(self, cls: type[_W]) -> _W:
        found = self._singletons.get(cls)
        if found is None:
            found = self._main_screen().query_one(cls)
            self._singletons[cls] = found
        assert isinstance(found, cls)
        return found

    def _signature(self, ctx: ViewCtx) -> tuple[Any, ...]:
        stale_after = max(3.0 * ctx.interval, 3.0)
        statuses = self.store.statuses()
        ages = []
        for src in statuses:
            last = self.store.last_sample_ts(src)
            if last is not None and ctx.now - last > stale_after:
                ages.append((src, int(ctx.now - last)))
        return (
            self.store.last_ts,
            ctx.window,
            ctx.interval,
            tuple(sorted(statuses.items(), key=lambda kv: kv[0])),
            tuple(ages),
            self._term_size,
            self.theme,
        )

    def _update_header(self) -> None:
        self._one(HeaderBar).set_text(
            header_text(
                self.store,
                hostname=self.hostname,
                interval=self.interval,
                window=self.window,
                paused=self.paused,
                gpu_enabled=self.gpu_enabled,
                mode=self.header_mode(),
                recording=self.recording.path.name if self.recording is not None else None,
            )
        )

    def refresh_header(self) -> None:
        self._update_header()

    @property
    def can_record(self) -> bool:
        """Live sessions record; a replay is already a recording."""
        return True

    def report_source_name(self) -> str:
        return "live"

    def header_mode(self) -> str | None:
        """What goes before the host name in the header (the replay says REPLAY there)."""
        return None

    def _update_diagnosis(self, ctx: ViewCtx) -> None:
        self._run_diagnosis(ctx, show=True)

    def _run_diagnosis(self, ctx: ViewCtx, *, show: bool) -> None:
        pane = self._one(DiagnosisPane)
        if self.tracker is None:
            if self._tracker_wanted:
                return  # loads after the first frame
            if show:
                pane.show_message("diagnosis not available")
            return
        if 0 <= ctx.now - self._last_diag < DIAG_PERIOD_S:
            return
        self._last_diag = ctx.now
        try:
            diag = self.tracker.update(self.store, DIAG_WINDOW_S)
        except NotImplementedError:
            if show:
                pane.show_message("diagnosis not available yet")
            return
        except Exception as exc:
            if show:
                pane.show_message(f"diagnosis failed: {type(exc).__name__}: {exc}")
            return
        if show:
            pane.show(diag)
        if self.recording is not None:
            self.recording.on_diagnosis(self.tracker, diag)

    def _panel_content(self, panel_id: str) -> PanelContent | None:
        found = self._main_screen().query(f"#{panel_id}")
        if not found:
            return None
        panel = found.first()
        return panel.content if isinstance(panel, MetricPanel) else None

    # -- actions -----------------------------------------------------------
    def action_quit_app(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.stop_recording_now()
        self.exit(0)

    def on_unmount(self) -> None:
        self.stop_recording_now()

    # -- recording, reports, process view (perftui.ui.app_io) ---------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_process_view":
            return self._attached  # shown in the footer only when attached
        return True

    def action_toggle_process_view(self) -> None:
        pane = self._one(ProcessPane)
        if not pane.attached:
            self.notify("no process attached: run perftui --pid PID", timeout=3)
            return
        pane.toggle_view(self.store)

    def action_toggle_record(self) -> None:
        from perftui.ui import app_io

        app_io.toggle_record(self)

    def action_write_report(self) -> None:
        from perftui.ui import app_io

        app_io.start_report(self)

    def stop_recording_now(self, wait_s: float = 60.0) -> None:
        """Finish the recording synchronously, and the file work in threads (quit, unmount)."""
        from perftui.ui import app_io

        app_io.stop_recording(self, background=False)
        deadline = time.monotonic() + wait_s
        for done in self.pending_work:
            done.wait(max(0.0, deadline - time.monotonic()))
        self.pending_work = [d for d in self.pending_work if not d.is_set()]

    def _check_recording(self) -> None:
        from perftui.ui import app_io

        app_io.check_recording(self)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._update_header()
        if not self.paused:
            self.refresh_view()

    def set_interval_s(self, seconds: float) -> None:
        if self.runner is not None:
            seconds = self.runner.set_interval(seconds)
            # faster sampling: the rings grow to keep the longest window
            self.store.ensure_capacity(capacity_for(max(WINDOWS), seconds))
        self.interval = seconds
        if self.live_timer:
            self._start_timer()
        self._update_header()

    def action_slower(self) -> None:
        self.set_interval_s(_next(INTERVALS, self.interval, +1))

    def action_faster(self) -> None:
        self.set_interval_s(_next(INTERVALS, self.interval, -1))

    def action_cycle_window(self) -> None:
        bigger = [w for w in WINDOWS if w > self.window + 1e-9]
        self.window = bigger[0] if bigger else WINDOWS[0]
        self._update_header()
        self.refresh_view()

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
        self.push_screen(DetailScreen(focused.id, self.store, focused.content, self.window))

    def get_default_screen(self) -> Screen[Any]:
        from perftui.ui.span_compositor import SpanScreen

        # the classes of the first layout, so mounting styles the screen once (see compose)
        w, h = self.size
        return SpanScreen(id="_default", classes=screen_classes(w, h, self._initial_gpu_ids()))

    def get_driver_class(self) -> type[Driver]:
        return _quiet_driver_class() or super().get_driver_class()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Pause / resume", "Freeze or resume the panels (p)", self.action_toggle_pause)
        yield SystemCommand("Longer interval", "Sample less often (+)", self.action_slower)
        yield SystemCommand("Shorter interval", "Sample more often (-)", self.action_faster)
        yield SystemCommand("Cycle window", "History window 1, 5, 15 min (w)", self.action_cycle_window)
        yield SystemCommand("Cycle theme", "Next perftui or Textual theme (t)", self.action_cycle_theme)
        yield SystemCommand("Panel detail", "Larger plot and statistics (enter)", self.action_detail)
        yield SystemCommand(
            "Record", "Start / stop recording to a file in the cwd (r)", self.action_toggle_record
        )
        yield SystemCommand("Report", "Markdown report of the current window (s)", self.action_write_report)
        yield SystemCommand(
            "Process tree / stacks", "Switch the attached process view (v)", self.action_toggle_process_view
        )
        yield SystemCommand("Keys", "Show the help screen (?)", self.action_help)


def _quiet_driver_class() -> type[Driver] | None:
    """perftui's Linux driver (perftui.ui.driver) unless TEXTUAL_DRIVER names another one."""
    if not sys.platform.startswith("linux") or os.environ.get("TEXTUAL_DRIVER"):
        return None
    from perftui.ui.driver import QuietLinuxDriver

    return QuietLinuxDriver


def create_app(
    store: MetricStore,
    runner: SamplerRunner | None = None,
    **kwargs: Any,
) -> PerftuiApp:
    """The one app factory: CLI, Pilot tests and screenshot script all build the app here."""
    return PerftuiApp(store, runner, **kwargs)


CSS_FILE = Path(__file__).with_name("app.tcss")
