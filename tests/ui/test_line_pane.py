"""Wrapping and cutting of the line panes' paragraphs (no Textual app needed)."""

from __future__ import annotations

from perftui.ui.widgets.line_pane import para, wrap_paragraphs


def _text(lines: list[tuple[tuple[str, str], ...]]) -> list[str]:
    return ["".join(t for t, _ in line) for line in lines]


def test_wrapped_paragraph_keeps_its_lead_and_hangs_its_continuation() -> None:
    p = para(("  → batch more work per launch: CUDA graphs or torch.compile", "text"), wrap=True, indent=4)
    lines = wrap_paragraphs([p], 30)
    assert _text(lines) == [
        "  → batch more work per",
        "    launch: CUDA graphs or",
        "    torch.compile",
    ]
    assert all(len(t) <= 30 for t in _text(lines))
    assert {role for line in lines for _, role in line} == {"text"}


def test_unwrapped_line_is_cut_with_an_ellipsis_across_pieces() -> None:
    p = para(("● compute-bound", "warn"), ("  (high confidence)", "dim"))
    assert wrap_paragraphs([p], 20) == [(("● compute-bound", "warn"), ("  (h…", "dim"))]
    assert wrap_paragraphs([p], 60) == [(("● compute-bound", "warn"), ("  (high confidence)", "dim"))]


def test_nothing_fits_in_no_width_and_empty_paragraph_is_a_blank_line() -> None:
    assert wrap_paragraphs([para(("x", "text"), wrap=True)], 0) == []
    assert wrap_paragraphs([para(wrap=True)], 10) == [()]
