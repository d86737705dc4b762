"""The dashboard's one-widget footer draws exactly what Textual's Footer draws, keys and clicks work."""

from __future__ import annotations

from typing import Any

import pytest
from textual.strip import Strip
from textual.widgets import Footer

import perftui.ui.screens.dashboard as dashboard
from perftui.ui.widgets.footer import KeyFooter
from tests.ui.conftest import make_app


def _cells(strip: Strip) -> list[tuple[str, Any]]:
    # the mouse-offset metadata differs by construction (one widget, not one per key); it is not drawn
    return [(ch, seg.style.clear_meta_and_links() if seg.style else None) for seg in strip for ch in seg.text]


async def _footer_line(
    monkeypatch: pytest.MonkeyPatch, footer: type[Any], size: tuple[int, int], theme: str
) -> Any:
    monkeypatch.setattr(dashboard, "KeyFooter", footer)
    app, _, _ = make_app(1, theme=theme)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        return _cells(app.screen._compositor.render_strips()[-1])


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", ["perftui-dark", "perftui-light", "textual-dark"])
async def test_the_footer_line_is_textuals_cell_for_cell(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int], theme: str
) -> None:
    stock = await _footer_line(monkeypatch, Footer, size, theme)
    ours = await _footer_line(monkeypatch, KeyFooter, size, theme)
    assert "".join(c for c, _ in ours) == "".join(c for c, _ in stock)
    assert ours == stock


async def test_a_click_on_a_key_presses_it() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        text = app.screen._compositor.render_strips()[-1].text
        await pilot.click(KeyFooter, offset=(text.index("Pause"), 0))
        await pilot.pause()
        assert app.dashboard.paused
        await pilot.click(KeyFooter, offset=(text.index("Help"), 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        assert footer.is_mounted


async def test_an_80x24_footer_keeps_help_record_and_report_and_reads_cleanly() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = app.screen._compositor.render_strips()[-1].text
        for hint in (" q Quit ", " ? Help ", " r Record ", " s Report ", " p Pause "):
            assert hint in line, line
        assert "+ +Interval" not in line and "- -Interval" not in line
        assert " +/- Interval " in line, line
