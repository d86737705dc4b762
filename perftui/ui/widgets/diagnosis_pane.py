"""The diagnosis pane: the current verdict with its evidence, suggestions and next step."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from perftui.diagnosis.model import Diagnosis


def _shown(d: Diagnosis) -> tuple[object, ...]:
    """Everything `render` reads from a diagnosis."""
    f = d.primary
    head = (f.title, f.evidence, f.suggestions, f.next_step) if f is not None else ()
    return (d.verdict, d.confidence, head, tuple((o.title, o.confidence) for o in d.findings[1:]))


class DiagnosisPane(Widget, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane--title",
        "pane--bad",
        "pane--warn",
        "pane--ok",
        "pane--dim",
        "pane--text",
    }

    def __init__(self, *, id: str = "diagnosis") -> None:
        super().__init__(id=id)
        self.border_title = "Diagnosis"
        self._diagnosis: Diagnosis | None = None
        self._message = "diagnosis not available"

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self._diagnosis

    @property
    def message(self) -> str:
        return self._message

    def show(self, diagnosis: Diagnosis) -> None:
        # Redraw only when what the pane shows changed (scores move every tick; the text often not).
        if self._message or self._diagnosis is None or _shown(diagnosis) != _shown(self._diagnosis):
            self.refresh()
        self._diagnosis = diagnosis
        self._message = ""

    def show_message(self, message: str) -> None:
        if message != self._message or self._diagnosis is not None:
            self._diagnosis = None
            self._message = message
            self.refresh()

    def _s(self, role: str) -> Style:
        return self.get_component_rich_style(f"pane--{role}")

    def render(self) -> Text:
        d = self._diagnosis
        if d is None:
            return Text(self._message, style=self._s("dim"))
        text = Text()
        role = "ok" if d.verdict in ("none", "idle") else "bad" if d.verdict == "throttled" else "warn"
        text.append(f"● {d.verdict}", style=self._s(role))
        text.append(f"  ({d.confidence} confidence)", style=self._s("dim"))
        if d.primary is not None:
            f = d.primary
            text.append(f"\n{f.title}", style=self._s("title"))
            for ev in f.evidence:
                text.append(f"\n  · {ev}", style=self._s("text"))
            for sug in f.suggestions:
                text.append(f"\n  → {sug}", style=self._s("text"))
            if f.next_step:
                text.append(f"\n  next: {f.next_step}", style=self._s("warn"))
        for other in d.findings[1:]:
            text.append(f"\n+ {other.title} ({other.confidence})", style=self._s("dim"))
        return text
