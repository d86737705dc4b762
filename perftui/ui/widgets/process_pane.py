"""The process pane.

Attached (`--pid`): the process tree (PID, CPU %, RSS, GPU memory, state, name) or, after `v`,
the stacks view (category bars from `stack.share.*` and the top functions with self/total %).
When the process exits, the `process` source's reason says when and how; py-spy problems show
as the `stacks` source's reason. Not attached: the process list (ui/widgets/process_list) when
the proctable sampler runs, with its keys (arrows, `o` sort, `/` filter, `a` attach live, `k`
signal); `a` on the attached view detaches (back to the list). Without a process table (a
replay): the GPU processes when the GPU sampler reports them, else how to attach.
Enter opens what the pane shows in full (ui/screens/processes.py), kept current on each tick.
`k` is offered only for processes the user may signal (their own, or any as root): on another
user's process the footer says "Kill: not yours" and `k` says why instead of asking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType

from perftui.core.proctable_record import DETAIL_KEY
from perftui.store.metric_store import MetricStore
from perftui.ui.options import refused_in_browser
from perftui.ui.widgets.line_pane import LinePane, Paragraph, para
from perftui.ui.widgets.process_list import ProcessList, Signaller
from perftui.ui.widgets.process_tree import (
    Line,
    View,
    is_attached,
    process_lines,
    stack_lines,
    text_line,
    tree_lines,
)

if TYPE_CHECKING:
    from perftui.ui.screens.kill import Answer
    from perftui.ui.screens.processes import ProcessesScreen
    from perftui.ui.session import Session
    from perftui.ui.widgets.process_list import ListRow

ATTACH_HINT = "no process attached: run perftui --pid PID to follow one process tree"
REPLAY_HINT = "no process in this recording (a recording made with --pid PID has one)"
SWITCH_HINT = "v: tree / stacks · a: detach"
LIST_HINT = "↑↓ · o sort · / filter · a attach · k kill"
LIST_HINT_NOT_YOURS = "↑↓ · o sort · / filter · a attach · k: not yours"


class ProcessPane(LinePane, can_focus=True):
    ROLE_COLORS: ClassVar[dict[str, str]] = {
        "title": "text-primary",
        "text": "foreground",
        "dim": "text-muted",
        "warn": "warning",
        "bad": "error",
        "bar": "spark",
    }
    COMPONENT_CLASSES: ClassVar[set[str]] = {"pane--sel"}  # a background and bold: CSS
    DEFAULT_CSS = """
    ProcessPane > .pane--sel { color: $foreground; background: $accent 30%; }
    ProcessPane:focus > .pane--sel { background: $accent 60%; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        # a page of the list; on the tree or stacks (no list) they scroll the pane
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("pageup", "page(-1)", "Scroll", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pagedown", "page(1)", "Scroll", show=False),
        Binding("enter", "full_view", "Full view"),
        Binding("o", "sort", "Sort"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("a", "attach", "Attach"),
        Binding("k", "kill", "Kill"),
        Binding("k", "kill_refused", "Kill: not yours"),  # shown instead of Kill; k says why
    ]

    def __init__(self, *, id: str = "processes") -> None:
        super().__init__(id=id)
        self.border_title = "Processes"
        self.view: View = "tree"
        self.attached = False
        self.listing = False  # the process list is shown (a proctable sampler runs)
        self.plist = ProcessList()
        self._store: MetricStore | None = None
        self._detail: object = None
        self._content: list[Line] = []
        self._texts: list[str] = []
        self.hint = ATTACH_HINT
        self.signaller = Signaller.current()
        self._may_kill = True
        self._full: ProcessesScreen | None = None
        self.set_paragraphs(pane_paragraphs([]))

    def on_mount(self) -> None:
        if getattr(self.app, "replaying", False):  # a replay cannot attach: no "run --pid" advice
            self.hint = REPLAY_HINT
            if not self._content:
                self.set_paragraphs(pane_paragraphs([], self.hint))

    @property
    def lines(self) -> list[str]:
        """The plain text of each line shown (tests)."""
        return self._texts

    def _session(self) -> Session | None:
        from perftui.ui.session import Session

        session = getattr(self.screen, "session", None) if self.is_mounted else None
        return session if isinstance(session, Session) else None

    def toggle_view(self, store: MetricStore) -> View:
        self.view = "stacks" if self.view == "tree" else "tree"
        self.update_view(store, force=True)
        return self.view

    def update_view(self, store: MetricStore, force: bool = False) -> None:
        self._store = store
        session = self._session()
        attached = is_attached(store) and not (session is not None and session.hide_attached)
        listing = not attached and (
            store.status("proctable") is not None or store.detail(DETAIL_KEY) is not None
        )
        if attached:
            content = tree_lines(store) if self.view == "tree" else stack_lines(store)
            title = "Process tree" if self.view == "tree" else "Stacks"
        elif listing:
            detail = store.detail(DETAIL_KEY)
            gpu = store.status("gpu")
            if detail is not self._detail or force or not self.listing:
                self._detail = detail
                self.plist.update(detail, gpu is not None and gpu.available)
            status = store.status("proctable")
            if status is not None and not status.available:
                content = [text_line((status.reason or "process list unavailable", "bad"))]
            else:
                self._fit()
                content = list(self.plist.lines())
            title = self.plist.title()
        else:
            content = [
                text_line((line, "title" if i == 0 else "text"))
                for i, line in enumerate(process_lines(store))
            ]
            title = "Processes"
        row = self.plist.current if listing else None
        may_kill = row is None or self.signaller.refusal(row) is None
        changed = attached != self.attached or listing != self.listing or may_kill != self._may_kill
        if changed or force or title != self.border_title:
            if changed:
                self.refresh_bindings()
            self.attached, self.listing, self._may_kill = attached, listing, may_kill
            self.border_title = title
            hint = LIST_HINT if may_kill else LIST_HINT_NOT_YOURS
            self.border_subtitle = SWITCH_HINT if attached else hint if listing else ""
        if content != self._content or force or not self.is_mounted:
            self._content = content
            self._texts = ["".join(part for part, _ in line) for line in content]
            self.set_paragraphs(pane_paragraphs(content, self.hint))
        if self._full is not None:
            self._full.redraw()

    def full_content(self) -> tuple[str, list[Line]]:
        """What the full view shows: the pane's title and all of its table (every row of the list,
        the whole tree, every stack category, sampled process and function)."""
        if self._store is None:
            return str(self.border_title), self._content
        if self.attached:
            store = self._store
            lines = tree_lines(store) if self.view == "tree" else stack_lines(store, full=True)
            return str(self.border_title), lines
        if self.listing and self.plist.received:
            return self.plist.title(), self.plist.lines(full=True)
        return str(self.border_title), self._content or [text_line((self.hint, "dim"))]

    def _refusal(self) -> str | None:
        """Why `k` may not signal the selected process (None: it may, or nothing is selected)."""
        row = self.plist.current if self.listing else None
        return None if row is None else self.signaller.refusal(row)

    def _fit(self) -> None:
        """Rows that fit: the pane's height less the column header (and the filter line)."""
        height = self.content_size.height if self.is_mounted else 0
        if height > 0:
            self.plist.set_height(height - 1 - (self.plist.filter_line() is not None))

    def _redraw(self) -> None:
        if self._store is not None:
            self.update_view(self._store, force=True)

    def on_resize(self) -> None:
        super().on_resize()
        if self.listing:
            self._redraw()

    # -- keys ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "attach":
            session = self._session()
            live = session is not None and session.can_attach and session.runner is not None
            return (self.listing or self.attached) and live
        if action in ("move", "sort", "filter"):
            return self.listing
        if action in ("kill", "kill_refused"):
            return self.listing and (self._refusal() is None) == (action == "kill")
        return True

    def on_key(self, event: events.Key) -> None:
        """While the filter is edited, keys type into it (enter keeps it, escape clears it)."""
        if not (self.listing and self.plist.editing):
            return
        event.stop()
        event.prevent_default()
        text = self.plist.filter
        if event.key == "enter":
            self.plist.editing = False
        elif event.key == "escape":
            self.plist.editing, text = False, ""
        elif event.key == "backspace":
            text = text[:-1]
        elif event.is_printable and event.character:
            text += event.character
        self.plist.set_filter(text)
        self._redraw()

    def action_move(self, step: int) -> None:
        self.plist.move(step)
        self._redraw()

    def action_sort(self) -> None:
        label = self.plist.cycle_sort()
        self._redraw()
        self.notify(f"processes by {label}", timeout=2)

    def action_filter(self) -> None:
        self.plist.editing = True
        self._redraw()

    def action_attach(self) -> None:
        session = self._session()
        if session is None:
            return
        if self.attached:
            if session.detach():
                self.notify("detached: back to the process list", timeout=3)
                self._redraw()
            else:
                self.notify("attached with --pid: it stays attached for this session", timeout=4)
            return
        row = self.plist.current
        if row is None or refused_in_browser(self, "attaching to a process"):
            return
        interval = getattr(self.screen, "interval", 1.0)
        error = session.attach(row.pid, row.start_ticks, float(interval))
        if error is not None:
            self.notify(error, title="not attached", severity="warning", timeout=6)
            return
        self.view = "tree"
        self.notify(f"attached to {row.who}", timeout=3)
        self._redraw()

    def action_kill(self) -> None:
        from perftui.ui.screens.kill import KillScreen

        row = self.plist.current
        if row is None or refused_in_browser(self, "killing a process"):
            return

        def answered(answer: Answer) -> None:
            if answer == "ask-kill":
                self.app.push_screen(KillScreen(row.who, sigkill=True), answered)
            elif answer is not None:
                self._send(row, answer)

        self.app.push_screen(KillScreen(row.who), answered)

    def action_kill_refused(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            self.notify(refusal, title="no signal offered", severity="warning", timeout=6)

    def action_full_view(self) -> None:
        from perftui.ui.screens.processes import ProcessesScreen

        def closed(_: None) -> None:
            self._full = None

        self._full = ProcessesScreen(self.full_content)
        self.app.push_screen(self._full, closed)

    def _send(self, row: ListRow, answer: Answer) -> None:
        import signal

        from perftui.samplers.proctable import signal_process

        sig = signal.SIGKILL if answer == "kill" else signal.SIGTERM
        error = signal_process(row.pid, row.start_ticks, sig)
        if error is not None:
            self.notify(error, title="no signal sent", severity="error", timeout=8)
        else:
            self.notify(f"sent {sig.name} to {row.who}", timeout=4)


def pane_paragraphs(content: list[Line], hint: str = ATTACH_HINT) -> list[Paragraph]:
    """An exit or py-spy message wraps (it says what to do); table rows are cut with …."""
    if not content:
        return [para((hint, "dim"), wrap=True)]
    return [para(*line, wrap=line[0][1] in ("bad", "warn"), indent=2) if line else para() for line in content]
