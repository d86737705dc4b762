"""The diagnosis pane: the current verdict with its evidence, suggestions and next step.

Enter opens the full view (ui/screens/diagnosis.py); PageUp/PageDown scroll what does not fit, and
the border's subtitle says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType

from perftui.ui.widgets.line_pane import LinePane, Paragraph, para

if TYPE_CHECKING:  # the diagnosis modules load after the first frame, with the tracker (~10 ms)
    from perftui.diagnosis.model import Diagnosis


def _shown(d: Diagnosis) -> tuple[object, ...]:
    """Everything the pane shows of a diagnosis."""
    from perftui.diagnosis.render import also_line, held_against

    f = d.primary
    head = (f.title, f.evidence, f.suggestions, f.next_step) if f is not None else ()
    others = tuple((o.title, o.confidence) for o in d.findings[1:])
    return (d.verdict, d.confidence, head, others, also_line(d), held_against(d))


class DiagnosisPane(LinePane, can_focus=True):
    ROLE_COLORS: ClassVar[dict[str, str]] = {
        "title": "foreground",
        "text": "foreground",
        "ok": "success",
        "warn": "warning",
        "bad": "error",
        "dim": "text-muted",
    }
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "full_view", "Full view")]

    def __init__(self, *, id: str = "diagnosis") -> None:
        super().__init__(id=id)
        self.border_title = "Diagnosis"
        self._diagnosis: Diagnosis | None = None
        self._message = "diagnosis not available"
        self.set_paragraphs([para((self._message, "dim"), wrap=True)])

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self._diagnosis

    @property
    def message(self) -> str:
        return self._message

    def show(self, diagnosis: Diagnosis) -> None:
        # Re-laid out only when what the pane shows changed (scores move every tick; the text
        # often not); then only the lines whose words changed are redrawn.
        if self._message or self._diagnosis is None or _shown(diagnosis) != _shown(self._diagnosis):
            self.set_paragraphs(diagnosis_paragraphs(diagnosis))
        self._diagnosis = diagnosis
        self._message = ""

    def _relayout(self, *, refresh: bool = True) -> None:
        super()._relayout(refresh=refresh)
        shown, height = len(self.plain_lines), self.content_size.height
        # it all fits: no hint (the footer shows "⏎ Full view" while the pane has focus); else a few
        # words, rarely redrawn
        overflow = bool(height) and shown > height
        hint = f"{'↑ ' if self.top else ''}more: PgUp/PgDn · ⏎ all" if overflow else ""
        if hint != self.border_subtitle:
            self.border_subtitle = hint

    def scroll_to_line(self, top: int) -> None:
        super().scroll_to_line(top)
        self._relayout()

    def action_full_view(self) -> None:
        from perftui.ui.screens.diagnosis import DiagnosisScreen

        tracker = getattr(self.screen, "tracker", None)  # the dashboard's; None before it loads
        timeline = list(tracker.timeline) if tracker is not None else []
        self.app.push_screen(DiagnosisScreen(self._diagnosis, timeline, self._message))

    def show_message(self, message: str) -> None:
        if message != self._message or self._diagnosis is not None:
            self._diagnosis = None
            self._message = message
            self.set_paragraphs([para((message, "dim"), wrap=True)])


def diagnosis_paragraphs(d: Diagnosis) -> list[Paragraph]:
    """The verdict with its co-bottleneck, the primary finding's evidence (each line says its window),
    suggestions and next step, then the others."""
    from perftui.diagnosis.render import also_line, held_against

    role = "ok" if d.verdict in ("none", "idle") else "bad" if d.verdict == "throttled" else "warn"
    out = [para((f"● {d.verdict}", role), (f"  ({d.confidence} confidence)", "dim"))]
    also = also_line(d)
    if also:
        out.append(para((also, "warn"), wrap=True, indent=2))
    held = held_against(d)
    if held:
        out.append(para((f"held: the engine now ranks {held} first", "dim"), wrap=True, indent=2))
    if d.primary is not None:
        f = d.primary
        out.append(para((f.title, "title"), wrap=True, indent=2))
        out.extend(para((f"  · {ev}", "text"), wrap=True, indent=4) for ev in f.evidence)
        out.extend(para((f"  → {sug}", "text"), wrap=True, indent=4) for sug in f.suggestions)
        if f.next_step:
            out.append(para((f"  next: {f.next_step}", "warn"), wrap=True, indent=4))
    out.extend(para((f"+ {o.title} ({o.confidence})", "dim")) for o in d.findings[1:])
    return out
