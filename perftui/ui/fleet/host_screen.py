"""A fleet host's full dashboard: the real DashboardScreen on that host's stream, read-only.

The fleet app is not a PerftuiApp (it has no Session, FileController or recording of its own), and
the dashboard's keys are PerftuiApp's app-level actions. So this screen carries the dashboard keys
that make sense for a remote host as its own bindings (pause, window, detail, theme, arrows, help)
and answers the ones that would write or act here — record, report, attach, kill, interval — with
one line saying why not. Escape (or q) returns to the fleet screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType

from perftui.ui.arrow_focus import ArrowFocus
from perftui.ui.file_controller import FileController
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.screens.dashboard import DashboardScreen
from perftui.ui.stream_session import HostStreamSession
from perftui.ui.widgets.metric_panel import MetricPanel

if TYPE_CHECKING:
    from perftui.fleet.state import HostState

REFUSED = {
    "record": "recording",
    "report": "a report",
    "attach": "attaching to a process",
    "kill": "signalling a process",
    "interval": "changing the sampling interval",
}


class HostDashboardScreen(DashboardScreen):
    """DashboardScreen over a HostStreamSession, with the read-only subset of the dashboard's keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Fleet"),
        Binding("q", "back", "Fleet", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("w", "cycle_window", "Window"),
        Binding("enter", "detail", "Detail"),
        Binding("t", "cycle_theme", "Theme"),
        Binding("left", "focus_toward('left')", "Focus", show=False),
        Binding("right", "focus_toward('right')", "Focus", show=False),
        Binding("up", "focus_toward('up')", "Focus", show=False),
        Binding("down", "focus_toward('down')", "Focus", show=False),
        Binding("r", "refuse('record')", "Record", show=False),
        Binding("s", "refuse('report')", "Report", show=False),
        Binding("plus", "refuse('interval')", "Interval", show=False),
        Binding("minus", "refuse('interval')", "Interval", show=False),
        # over the process pane's own keys: nothing here may signal or attach to a local PID
        Binding("a", "refuse('attach')", "Attach", show=False, priority=True),
        Binding("k", "refuse('kill')", "Kill", show=False, priority=True),
    ]

    def __init__(
        self, state: HostState, options: AppOptions, knobs: TestKnobs, size: tuple[int, int]
    ) -> None:
        session = HostStreamSession(state)
        self.host_session = session
        files = FileController(lambda _m: True, lambda *a, **k: None, hostname=state.name, meta=session.meta)
        super().__init__(session, files, options, knobs, size)
        self._arrows = ArrowFocus()

    def on_unmount(self) -> None:
        self.stop_timer()
        self.host_session.close()

    def action_back(self) -> None:
        self.stop_timer()
        self.host_session.close()  # at once: the screen's unmount comes later
        self.dismiss()

    def action_refuse(self, what: str) -> None:
        self.notify(self.host_session.refused(REFUSED.get(what, what)), timeout=4, markup=False)

    def action_toggle_pause(self) -> None:
        self.toggle_pause()

    def action_cycle_window(self) -> None:
        self.cycle_window()

    def action_help(self) -> None:
        from perftui.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_detail(self) -> None:
        from perftui.ui.screens.detail import DetailScreen

        focused = self.app.focused
        if isinstance(focused, MetricPanel) and focused.id is not None:
            self.app.push_screen(DetailScreen(focused.id, self.store, focused.content, self.window))

    def action_cycle_theme(self) -> None:
        names = list(getattr(self.app, "theme_names", None) or self.app.available_themes)
        i = names.index(self.app.theme) if self.app.theme in names else -1
        self.app.theme = names[(i + 1) % len(names)]
        self.notify(f"theme: {self.app.theme}", timeout=2, markup=False)

    def action_focus_toward(self, direction: str) -> None:
        self._arrows.move(self, self.app.focused, direction)
