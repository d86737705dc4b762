"""The floor for any Textual dashboard: a bare Textual app, measured beside the monitors.

One line of text, a footer and a help screen (for the key-latency probe). Its first frame is what
importing and starting Textual costs on the machine, so perftui's own start-up cost is the
difference between the two rows.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


class _Help(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        yield Static("bare help")


class BareTextual(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("bare Textual app")
        yield Footer()

    def action_help(self) -> None:
        self.push_screen(_Help())


if __name__ == "__main__":
    BareTextual().run()
