"""The diagnosis in full (Enter on the diagnosis pane): every finding with its evidence, suggestions
and next step, the next command ready to copy, and the verdict timeline. The dashboard's tick calls
`show` while the screen is open, so it stays current; PageUp/PageDown and the arrows scroll it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from perftui.diagnosis.model import Diagnosis, TimelineEntry
from perftui.diagnosis.render import also_line, clock, held_against, timeline_lines

Styled = tuple[str, str]  # (text, Textual style), assembled without markup: the text is data


def full_lines(d: Diagnosis | None, timeline: Sequence[TimelineEntry], message: str = "") -> list[Styled]:
    """The full view's lines: verdict, co-bottleneck, each finding in turn, next command, timeline."""
    if d is None:
        return [(message or "diagnosis: waiting for samples", "dim")]
    since = f" · since {clock(d.since)}" if d.since is not None else ""
    out: list[Styled] = [(f"● {d.verdict} ({d.confidence} confidence){since}", "bold")]
    also = also_line(d)
    if also:
        out.append((also, "$text-warning"))
    held = held_against(d)
    if held:
        out.append((f"held: the engine now ranks {held} first", "dim"))
    for n, f in enumerate(d.findings, 1):
        out += [("", ""), (f"{n}. {f.title}", "bold"), (f"   {f.verdict} · {f.confidence} confidence", "dim")]
        out += [(f"   · {ev}", "") for ev in f.evidence]
        out += [(f"   → {sug}", "") for sug in f.suggestions]
        if f.next_step:
            out.append((f"   next: {f.next_step}", "$text-warning"))
    cmd = next_command(d)
    if cmd:
        out += [("", ""), ("Next command (c copies it):", "bold"), (f"  {cmd}", "$text-warning")]
    if timeline:
        out += [("", ""), ("Verdict timeline:", "bold")]
        out += [(f"  {line}", "") for line in timeline_lines(timeline)]
    return out


def next_command(d: Diagnosis | None) -> str:
    """The primary finding's next step (else the first finding's that has one)."""
    if d is None:
        return ""
    return next((f.next_step for f in d.findings if f.next_step), "")


class DiagnosisScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("enter", "close", "Back", show=False),
        Binding("c", "copy_command", "Copy next command"),
    ]

    def __init__(
        self, diagnosis: Diagnosis | None, timeline: Sequence[TimelineEntry], message: str = ""
    ) -> None:
        super().__init__()
        self.diagnosis = diagnosis
        self._timeline = list(timeline)
        self._message = message
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="diagnosis-scroll"):
            yield Static(id="diagnosis-full")
        yield Footer()

    def on_mount(self) -> None:
        self._redraw()
        self.query_one("#diagnosis-scroll").focus()

    def show(self, diagnosis: Diagnosis, timeline: Sequence[TimelineEntry]) -> None:
        self.diagnosis, self._timeline = diagnosis, list(timeline)
        if self.is_mounted:
            self._redraw()

    def _redraw(self) -> None:
        styled = full_lines(self.diagnosis, self._timeline, self._message)
        lines = [text for text, _ in styled]
        if lines == self.lines:
            return
        self.lines = lines
        parts: list[Styled] = []
        for text, style in styled:
            parts += [(text, style), ("\n", "")]
        self.query_one("#diagnosis-full", Static).update(Content.assemble(*parts[:-1]))

    def action_copy_command(self) -> None:
        cmd = next_command(self.diagnosis)
        if not cmd:
            self.notify("no next command to copy", timeout=3)
            return
        self.app.copy_to_clipboard(cmd)  # OSC 52: the terminal puts it on the clipboard
        self.notify(f"copied: {cmd}", timeout=3)

    def action_close(self) -> None:
        self.dismiss(None)
