"""The process list's `k`: a confirmation that names the process before a signal is sent.

The first screen offers SIGTERM (`y`) and, separately, SIGKILL (`K`), which only opens a second
confirmation: SIGKILL is never sent on one key press. Escape or `n` cancels. The screen only
answers; the pane sends the signal (perftui.samplers.proctable.signal_process, which re-checks the
PID's start time first).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

Answer = Literal["term", "kill", "ask-kill"] | None


class KillScreen(ModalScreen[Answer]):
    """`what`: the process as the user knows it ("sha256sum (PID 4242, user ci)")."""

    DEFAULT_CSS = """
    KillScreen { align: center middle; }
    KillScreen > #kill-box {
        width: 72; max-width: 95%; height: auto;
        border: round $error; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('yes')", "Send"),
        Binding("K", "answer('kill')", "SIGKILL…", show=False),
        Binding("n,escape", "answer('no')", "Cancel"),
    ]

    def __init__(self, what: str, *, sigkill: bool = False) -> None:
        super().__init__()
        self.what = what
        self.sigkill = sigkill

    @property
    def text(self) -> str:
        if self.sigkill:
            return (
                f"Send SIGKILL to {self.what}?\n"
                "It ends at once and cannot clean up (files, GPU memory are freed by the kernel).\n\n"
                "y: send SIGKILL   n / esc: cancel"
            )
        return (
            f"Send SIGTERM to {self.what}?\nIt may clean up and exit, or ignore it.\n\n"
            "y: send SIGTERM   K: SIGKILL instead (asks again)   n / esc: cancel"
        )

    def compose(self) -> ComposeResult:
        yield Static(Content(self.text), id="kill-box")

    def action_answer(self, answer: str) -> None:
        if answer == "yes":
            self.dismiss("kill" if self.sigkill else "term")
        elif answer == "kill" and not self.sigkill:
            self.dismiss("ask-kill")
        elif answer == "no":
            self.dismiss(None)
