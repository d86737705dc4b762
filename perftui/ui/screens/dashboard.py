"""The dashboard: the layout, the render tick and the panel caches, on the span compositor.

Samplers write the store from their threads; the screen reads it on its own timer (at most 4 Hz) and
each panel redraws only the cells that changed; it never calls psutil, NVML or py-spy. The samples'
origin (live, replay) is the `Session`'s business; the files are the FileController's."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from perftui.core import startup_gc
from perftui.core.limits import INTERVAL_STEPS, MAX_RENDER_HZ, MAX_WINDOW, WINDOW_STEPS, next_step
from perftui.store.metric_store import capacity_for
from perftui.ui import textual_compat
from perftui.ui.layout import MIN_SIZE, arrange_gpu_grid, screen_classes, size_classes
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.panels import PanelContent, ViewCtx
from perftui.ui.screens.dashboard_layout import PanelLayout, host_panels
from perftui.ui.session import Session
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.footer import KeyFooter
from perftui.ui.widgets.header import HeaderBar, header_text
from perftui.ui.widgets.metric_panel import MetricPanel
from perftui.ui.widgets.process_pane import ProcessPane

if TYPE_CHECKING:
    from perftui.diagnosis.tracker import DiagnosisTracker
    from perftui.store.metric_store import MetricStore
    from perftui.ui.file_controller import FileController

DIAG_PERIOD_S = 2.0  # the verdict reads a 10 s window: every 2 s is current enough, and half the cost
DIAG_WINDOW_S = 10.0
REPLAY_STEP_S = 1.0 / MAX_RENDER_HZ  # a replay moves its clock and redraws this often

_W = TypeVar("_W", bound=Widget)


class DashboardScreen(Screen[Any]):
    """The main screen: header, host and GPU panels, diagnosis and process panes, footer."""

    def __init__(
        self, session: Session, files: FileController, options: AppOptions, knobs: TestKnobs, size: Any
    ) -> None:
        self.session = session
        self.files = files
        self.gpu_enabled = options.gpu_enabled
        self.hostname = options.hostname or session.default_hostname or ""
        self.knobs = knobs
        self.interval = options.interval if options.interval is not None else session.default_interval or 1.0
        self.window = options.window
        self.paused = False
        self.ticks = 0
        self.panel_layout = PanelLayout(self, gpu_enabled=options.gpu_enabled)
        self._term_size: tuple[int, int] | None = None
        w, h = size
        self._start_size = (w, h)
        # the classes of the first layout, so mounting styles the screen once (see compose)
        self.panel_layout.term_size = (w, h)
        ids = self.panel_layout.initial_gpu_ids(self.store)
        super().__init__(id="_default", classes=screen_classes(w, h, ids))
        if textual_compat.available("span_compositor"):  # else Textual's own compositor
            from perftui.ui.span_compositor import SpanCompositor

            textual_compat.set_compositor(self, SpanCompositor())
        # the diagnosis modules load after the first frame (~30 ms of imports off the start-up path)
        self.tracker: DiagnosisTracker | None = knobs.tracker
        self._tracker_wanted = knobs.tracker is None and knobs.use_tracker
        self._timer: Timer | None = None
        self._last_sig: tuple[Any, ...] | None = None
        self._panel_cache: list[MetricPanel] | None = None
        self._singletons: dict[type[Any], Any] = {}
        self._requery = 0  # ticks left before the panel list is trusted again after a layout change
        self._last_diag = -math.inf
        self._generation = session.generation
        self.attached = False
        self._proc_state: tuple[bool, object] = (False, None)

    @property
    def store(self) -> MetricStore:
        return self.session.store  # a replay's store changes on each seek

    # -- composition -------------------------------------------------------
    def compose(self) -> ComposeResult:
        # The first layout is built in place, for the GPUs already known and the terminal's size:
        # classes set after mounting restyle the whole screen, and panels mounted on the first tick
        # would miss the first frame. `_ensure_layout` handles GPUs that appear (or go) later.
        ids = self.panel_layout.initial_gpu_ids(self.store)
        host = host_panels()
        yield HeaderBar()
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield from host[:2]
                if ids:
                    yield from host[2:]
            with Vertical(id="right"):
                gpus = self.panel_layout.gpu_panels(ids)
                with Container(id="gpus") as box:
                    yield from gpus
                if ids:
                    arrange_gpu_grid(box, gpus, *self._start_size)
                else:
                    yield from host[2:]
                yield from self.panel_layout.initial_services(self.store)  # serving, probe
        with Horizontal(id="bottom"):
            yield DiagnosisPane()
            yield ProcessPane()
        yield Static(id="too-small")
        yield KeyFooter()

    def on_mount(self) -> None:
        # the first frame is out: the collector comes back on (held since the command started)
        self.call_after_refresh(startup_gc.release, freeze=True)
        if self._tracker_wanted:
            self.one(DiagnosisPane).show_message("diagnosis: waiting for samples")
            self.call_after_refresh(self._load_tracker)
        self._apply_size()
        self.refresh_view()
        self.start_timer()
        self.query(MetricPanel).first().focus()
        runner = self.session.runner
        if self.session.start_runner and runner is not None:
            # samplers start once the first frame is out (the perftui command starts them earlier,
            # on a thread of their own, while Textual starts up)
            self.call_after_refresh(runner.start)
        if runner is not None:  # and the ones it held back (the process table's priming pass) now
            self.call_after_refresh(runner.release_deferred)
        if runner is not None and self.knobs.live_timer:
            # show the first values as soon as they land, not a whole render period later
            for delay in (0.15, 0.35, 0.7):
                self.set_timer(delay, self.refresh_view)

    def _load_tracker(self) -> None:
        if self._tracker_wanted:
            from perftui.diagnosis.tracker import DiagnosisTracker

            self._tracker_wanted = False
            self.tracker = DiagnosisTracker(hold_s=3.0)
            self._last_diag = -math.inf
            self._run_diagnosis(self.view_ctx(), show=not (self.paused or self.too_small))

    def start_timer(self) -> None:
        if not self.knobs.live_timer:
            return
        if self._timer is not None:
            self._timer.stop()
        if self.session.drives_clock:
            self._timer = self.set_interval(REPLAY_STEP_S, self.replay_step, name="replay")
        else:
            period = max(1.0 / MAX_RENDER_HZ, self.interval)
            self._timer = self.set_interval(period, self.refresh_view, name="render")

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    # -- layout ------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    @property
    def too_small(self) -> bool:
        w, h = self._term_size or self.app.size
        return w < MIN_SIZE[0] or h < MIN_SIZE[1]

    def _apply_size(self, w: int | None = None, h: int | None = None) -> None:
        if w is None or h is None:
            w, h = self.app.size
        self._term_size = (w, h)
        self.panel_layout.term_size = (w, h)
        for name, on in size_classes(w, h).items():
            self.set_class(on, name)
        if self.too_small:
            self.query_one("#too-small", Static).update(
                f"terminal too small: {w}×{h}\nperftui needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}\n(q quits)"
            )
        else:
            self.panel_layout.arrange_gpus()
            self.refresh_view()
            self.call_after_refresh(self.reweight)  # the panes' lines at their new widths

    # -- the render tick -----------------------------------------------------
    def view_ctx(self) -> ViewCtx:
        return ViewCtx(now=self.session.now(), window=self.window, interval=self.interval)

    def replay_step(self, wall_seconds: float | None = None) -> None:
        """Move a replay's clock by `wall_seconds` of real time (None: since the last step), redraw."""
        self.session.advance(wall_seconds)
        self._sync_store()
        self.refresh_view()
        self.update_header()

    def _sync_store(self) -> None:
        if self.session.generation != self._generation:
            # a seek built a new store: the panels read it from now on, the diagnosis starts over
            self._generation = self.session.generation
            self._last_sig = None
            self._last_diag = -math.inf
            if self.tracker is not None:
                self.tracker.reset()

    def refresh_view(self) -> None:
        """Read the store once and update every visible widget (only what changed redraws)."""
        if self.files.recording is not None and self.files.check_recording():
            self.update_header()
        if self.paused or self.too_small:
            if self.files.recording is not None:  # the timeline goes on into the file
                self._run_diagnosis(self.view_ctx(), show=False)
            return
        ctx = self.view_ctx()
        sig = self._signature(ctx)
        if sig == self._last_sig:
            return  # nothing new in the store, no source went stale: nothing to redraw
        self._last_sig = sig
        self.ticks += 1
        if self.panel_layout.ensure(self.store):
            self._requery = 2
        shown = self._panels()
        for panel in shown:
            panel.update_view(self.store, ctx)
        self.update_header()
        pane = self.one(ProcessPane)
        pane.update_view(self.store)
        if pane.attached != self.attached:
            self.attached = pane.attached
            self.app.refresh_bindings()
        proc_state = (pane.attached, self._proc_status())
        if proc_state != self._proc_state:  # attached, detached or exited: the verdict now, not in 2 s
            self._proc_state = proc_state
            self._last_diag = -math.inf
        self._run_diagnosis(ctx, show=True)
        self.reweight()
        # a panel's detail screen on top follows the store (its module loads when one first opens)
        detail = sys.modules.get("perftui.ui.screens.detail")
        screen = self.app.screen
        if detail is not None and isinstance(screen, detail.DetailScreen):
            screen.update_view(self.store, self.panel_content(screen.panel_id), self.window)

    def reweight(self) -> None:
        """Heights for the panels' content and the diagnosis/process panes' lines (dashboard_layout)."""
        if not self.too_small:
            self.panel_layout.reweight(self._panels(), self._bottom_want())

    def _bottom_want(self) -> int:
        """Rows the diagnosis and process panes would like (their lines and border)."""
        diag = self.one(DiagnosisPane).natural_height()
        return max(diag, len(self.one(ProcessPane).plain_lines) + 2)

    def _proc_status(self) -> object:
        info = self.store.detail("proc.info")
        return info.get("status") if isinstance(info, dict) else None

    def _panels(self) -> list[MetricPanel]:
        """The metric panels, queried again only after a layout change (queries cost per tick)."""
        if self._panel_cache is None or self._requery > 0:
            self._requery = max(0, self._requery - 1)
            self._panel_cache = list(self.query(MetricPanel))
        return self._panel_cache

    def one(self, cls: type[_W]) -> _W:
        """The screen's one widget of `cls` (looked up once)."""
        found = self._singletons.get(cls)
        if found is None:
            found = self.query_one(cls)
            self._singletons[cls] = found
        assert isinstance(found, cls)
        return found

    def _signature(self, ctx: ViewCtx) -> tuple[Any, ...]:
        stale_after = max(3.0 * ctx.interval, 3.0)
        store = self.store
        statuses = store.statuses()
        ages = []
        for src in statuses:
            last = store.last_sample_ts(src)
            if last is not None and ctx.now - last > stale_after:
                ages.append((src, int(ctx.now - last)))
        return (
            store.last_ts,
            ctx.window,
            ctx.interval,
            tuple(sorted(statuses.items(), key=lambda kv: kv[0])),
            tuple(ages),
            self._term_size,
            self.app.theme,
        )

    def update_header(self) -> None:
        rec = self.files.recording
        self.one(HeaderBar).set_text(
            header_text(
                self.store,
                hostname=self.hostname,
                interval=self.interval,
                window=self.window,
                paused=self.paused,
                gpu_enabled=self.gpu_enabled,
                mode=self.session.header_mode(),
                recording=rec.path.name if rec is not None else None,
            )
        )

    def _run_diagnosis(self, ctx: ViewCtx, *, show: bool) -> None:
        pane = self.one(DiagnosisPane)
        if self.tracker is None:
            if show and not self._tracker_wanted:  # else it loads after the first frame
                pane.show_message("diagnosis not available")
            return
        if 0 <= ctx.now - self._last_diag < DIAG_PERIOD_S:
            return
        self._last_diag = ctx.now
        try:
            diag = self.tracker.update(self.store, DIAG_WINDOW_S)
        except Exception as exc:  # a diagnosis bug must not take the dashboard down
            if show:
                pane.show_message(f"diagnosis failed: {type(exc).__name__}: {exc}")
            return
        if show:
            lines = len(pane.plain_lines)
            pane.show(diag)
            if len(pane.plain_lines) != lines:
                self.reweight()
            from perftui.ui.screens.diagnosis import DiagnosisScreen

            screen = self.app.screen
            if isinstance(screen, DiagnosisScreen):
                screen.show(diag, self.tracker.timeline)
        if self.files.recording is not None:
            self.files.recording.on_diagnosis(self.tracker, diag)

    def panel_content(self, panel_id: str) -> PanelContent | None:
        found = self.query(f"#{panel_id}")
        if not found:
            return None
        panel = found.first()
        return panel.content if isinstance(panel, MetricPanel) else None

    # -- what the keys change ------------------------------------------------
    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.update_header()
        if not self.paused:
            self.refresh_view()

    def set_interval_s(self, seconds: float) -> None:
        if self.session.runner is not None:
            seconds = self.session.set_interval(seconds)
            # faster sampling: the rings grow to keep the longest window
            self.store.ensure_capacity(capacity_for(MAX_WINDOW, seconds))
        self.interval = seconds
        self.start_timer()
        self.update_header()

    def cycle_window(self) -> None:
        bigger = [w for w in WINDOW_STEPS if w > self.window + 1e-9]
        self.window = bigger[0] if bigger else WINDOW_STEPS[0]
        self.update_header()
        self.refresh_view()

    def step_interval(self, step: int) -> None:
        self.set_interval_s(next_step(INTERVAL_STEPS, self.interval, step))
