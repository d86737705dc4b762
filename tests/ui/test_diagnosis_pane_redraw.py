"""The diagnosis pane redraws only when its text would change (scores move every tick)."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from perftui.diagnosis.model import Diagnosis, Finding
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield DiagnosisPane()


def _diag(score: float, evidence: str = "SM active 96 %") -> Diagnosis:
    f = Finding("compute-bound", "GPU 0 compute-bound", "high", score, evidence=(evidence,))
    return Diagnosis("compute-bound", "high", (f,), since=1.0)


async def test_same_text_new_score_does_not_redraw() -> None:
    app = _Host()
    async with app.run_test() as pilot:
        pane = app.query_one(DiagnosisPane)
        calls: list[object] = []
        real = pane.refresh

        def spy(*a: object, **k: object) -> object:
            calls.append(a)
            return real(*a, **k)  # type: ignore[arg-type]

        pane.refresh = spy  # type: ignore[method-assign]
        pane.show(_diag(76.0))
        assert len(calls) == 1
        pane.show(replace(_diag(77.5)))  # a new score, the same words
        assert len(calls) == 1 and pane.diagnosis is not None and pane.diagnosis.findings[0].score == 77.5
        pane.show(_diag(77.5, "SM active 97 %"))  # new words: redraw
        assert len(calls) == 2
        await pilot.pause()
        assert "  · SM active 97 %" in pane.plain_lines


async def test_new_words_rebuild_only_their_line() -> None:
    app = _Host()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(DiagnosisPane)
        pane.show(_diag(76.0))
        await pilot.pause()
        before = {y: pane.render_line(y) for y in range(4)}
        pane.show(_diag(76.0, "SM active 97 %"))
        await pilot.pause()
        after = {y: pane.render_line(y) for y in range(4)}
        changed = [y for y in range(4) if after[y] is not before[y]]
        assert changed == [2]  # verdict, title, evidence: only the evidence line is new
        assert pane.plain_lines[:3] == [
            "● compute-bound  (high confidence)",
            "GPU 0 compute-bound",
            "  · SM active 97 %",
        ]
