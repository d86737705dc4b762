"""perftui's seam to Textual's private API (perftui.ui.textual_compat).

The first test fails, naming the name, when a Textual release renames or reshapes one of the
private names perftui uses. The others simulate a missing name and check that the dashboard falls
back to stock Textual for that feature: it still starts and draws the same picture, no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from perftui.ui import textual_compat
from perftui.ui.app import PerftuiApp
from perftui.ui.span_compositor import SpanCompositor
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.ui.conftest import make_app

FEATURES = sorted({n.feature for n in textual_compat.PRIVATE_NAMES})


@pytest.fixture(autouse=True)
def fresh_checks() -> Iterator[None]:
    textual_compat.reset()
    yield
    textual_compat.reset()


@pytest.mark.parametrize("name", textual_compat.PRIVATE_NAMES, ids=lambda n: f"{n.owner}.{n.attribute}")
def test_each_private_name_is_there_with_its_shape(name: textual_compat.PrivateName) -> None:
    assert textual_compat.problem(name) is None


@pytest.mark.parametrize("feature", FEATURES)
def test_each_feature_is_on_with_the_installed_textual(feature: str) -> None:
    assert textual_compat.available(feature)


def test_a_missing_or_reshaped_name_is_reported() -> None:
    gone = textual_compat.PrivateName("x", "textual.app:App", "_no_such_name_", "callable")
    assert textual_compat.problem(gone) == "textual.app:App._no_such_name_: missing"
    moved = textual_compat.PrivateName("x", "textual._no_such_module", "Thing", "class")
    assert textual_compat.problem(moved) is not None
    reshaped = textual_compat.PrivateName("x", "textual.app:App", "_watch_theme", "callable", ("other",))
    assert "expected ['other']" in (textual_compat.problem(reshaped) or "")


def simulate_missing(monkeypatch: pytest.MonkeyPatch, feature: str) -> None:
    """As if a Textual release had renamed one of `feature`'s private names."""
    renamed = [
        textual_compat.PrivateName(n.feature, n.owner, n.attribute + "_renamed", n.kind, n.params)
        if n.feature == feature
        else n
        for n in textual_compat.PRIVATE_NAMES
    ]
    monkeypatch.setattr(textual_compat, "PRIVATE_NAMES", tuple(renamed))
    textual_compat.reset()
    assert not textual_compat.available(feature)


async def _picture(app: PerftuiApp) -> tuple[list[str], Any]:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        await pilot.pause()
        lines = [app.query_one(HeaderBar).text, *app.query_one("#cpu", MetricPanel).plain_lines()]
        footer = app.screen._compositor.render_strips()[-1].text
        span = isinstance(textual_compat.screen_compositor(app.dashboard), SpanCompositor)
        return [*lines, footer, f"span={span}"], app.theme


async def test_without_textual_compositor_the_dashboard_uses_textuals_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock, _ = await _picture(make_app(1)[0])
    simulate_missing(monkeypatch, "span_compositor")
    app, _, _ = make_app(1)
    picture, _ = await _picture(app)
    assert stock[-1] == "span=True" and picture[-1] == "span=False"
    assert picture[:-1] == stock[:-1]


async def test_without_the_xterm_parser_the_app_uses_textuals_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "textual._xterm_parser", None)  # the module is gone: import fails
    textual_compat.reset()
    assert not textual_compat.available("quiet_driver")
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    app, _, _ = make_app(1)
    driver = app.get_driver_class()
    assert driver.__module__.startswith("textual.")


async def test_without_the_theme_internals_the_theme_takes_textuals_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stock, theme = await _picture(make_app(1, theme="perftui-light")[0])
    simulate_missing(monkeypatch, "theme_start")
    app, _, _ = make_app(1, theme="perftui-light")
    picture, fallback_theme = await _picture(app)
    assert fallback_theme == theme == "perftui-light"
    assert picture == stock
    assert app.has_class("-light-mode")
