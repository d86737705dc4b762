"""The process pane in full (Enter on the Processes pane): every row of the process list with all its
columns (containers and command lines uncut), or the attached process's whole tree, or its stacks with
every category, every sampled process and the whole function table (file paths in full).

The pane gives the content (`ProcessPane.full_content`) and calls `redraw` on each tick while the
screen is open, so it stays current; `v` (the app's key) switches tree / stacks here too. The arrows,
PageUp/PageDown scroll it (left/right for long command lines); Escape or Enter closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from perftui.ui.widgets.process_tree import Line

Source = Callable[[], tuple[str, list[Line]]]  # (title, lines), read on each redraw

STYLES = {  # the pane's roles as Textual styles
    "title": "bold",
    "text": "",
    "dim": "dim",
    "warn": "$text-warning",
    "bad": "$text-error",
    "bar": "$text-accent",
    "sel": "bold reverse",
}


class ProcessesScreen(Screen[None]):
    DEFAULT_CSS = """
    ProcessesScreen > #processes-title { height: 1; padding: 0 1; text-style: bold; }
    ProcessesScreen > #processes-scroll { height: 1fr; }
    ProcessesScreen #processes-full { width: auto; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "close", "Back", show=False),
    ]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.title_text = ""
        self.lines: list[str] = []  # the plain text of each line shown (tests)
        self.shown: list[Line] | None = None  # the lines with their roles
        self._composed = False

    def compose(self) -> ComposeResult:
        yield Static(id="processes-title")
        with ScrollableContainer(id="processes-scroll"):
            yield Static(id="processes-full")
        yield Footer()

    def on_mount(self) -> None:
        self._composed = True
        self.redraw()
        self.query_one("#processes-scroll").focus()

    def redraw(self) -> None:
        """Read the pane's content again; repaint only when it changed."""
        if not self._composed:
            return
        title, content = self.source()
        if title != self.title_text:
            self.title_text = title
            self.query_one("#processes-title", Static).update(Content(title))
        if content == self.shown:
            return
        self.shown = content
        self.lines = ["".join(text for text, _ in line) for line in content]
        parts: list[tuple[str, str]] = []
        for line in content:
            parts += [(text, STYLES.get(role, "")) for text, role in line]
            parts.append(("\n", ""))
        self.query_one("#processes-full", Static).update(Content.assemble(*parts[:-1]))

    def action_close(self) -> None:
        self.dismiss(None)
