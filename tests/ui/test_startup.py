"""The dashboard's start: the first frame it writes is complete, and it is styled once."""

from __future__ import annotations

from typing import Any

import pytest
from textual.color import Color

from perftui.ui.app import MetricPanel, PerftuiApp
from tests.ui.conftest import make_app
from tests.ui.fakes import fill_store


def _record_first_frame(app: PerftuiApp) -> list[dict[str, Any]]:
    """What every panel shows when the app writes its first frame to the terminal."""
    frames: list[dict[str, Any]] = []
    display = app._display

    def spy(*args: Any, **kwargs: Any) -> Any:
        if not frames:
            main = app.screen_stack[0]
            frames.append(
                {
                    "panels": {p.id: p.plain_lines() for p in main.query(MetricPanel)},
                    "classes": set(main.classes),
                }
            )
        return display(*args, **kwargs)

    app._display = spy  # type: ignore[method-assign]
    return frames


@pytest.mark.parametrize(
    ("gpus", "size", "expect_classes"),
    [
        (0, (200, 50), {"-no-gpu"}),
        (1, (120, 40), set()),
        (8, (200, 50), {"-many-gpus", "-wide"}),
        (8, (80, 24), {"-many-gpus", "-narrow", "-short"}),
    ],
)
async def test_first_frame_has_every_panel_with_its_values(
    gpus: int, size: tuple[int, int], expect_classes: set[str]
) -> None:
    app, _, _ = make_app(gpus)
    frames = _record_first_frame(app)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
    first = frames[0]
    gpu_ids = {f"gpu-{i}" for i in range(gpus)}  # none without GPUs: the header says why
    assert set(first["panels"]) == {"cpu", "memory", "disk", "net"} | gpu_ids
    for pid, lines in first["panels"].items():
        assert "".join(lines).strip(), f"panel {pid} was empty in the first frame"
    assert any("used" in line for line in first["panels"]["memory"])
    # the screen had its final classes in that frame: nothing restyled it afterwards
    layout = {"-no-gpu", "-many-gpus", "-wide", "-narrow", "-short", "-tall", "-too-small"}
    assert first["classes"] & layout == expect_classes


async def test_gpus_that_appear_after_the_start_still_get_panels() -> None:
    app, store, clock = make_app(0)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        assert not app.query("#gpus MetricPanel")
        clock.now = fill_store(store, 2, seconds=5, t0=clock.now) + 0.5
        app.dashboard.refresh_view()
        await pilot.pause()
        ids = {p.id for p in app.query(MetricPanel)}
        assert {"gpu-0", "gpu-1"} <= ids
        assert not app.screen_stack[0].has_class("-no-gpu")


async def test_starting_theme_is_styled_once_and_theme_changes_still_restyle() -> None:
    app, _, _ = make_app(1, theme="perftui-light")
    reparses: list[object] = []
    refresh_css = app.refresh_css

    def spy(*args: Any, **kwargs: Any) -> None:
        reparses.append(app.theme)
        refresh_css(*args, **kwargs)

    app.refresh_css = spy  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        light = app.get_theme("perftui-light")
        assert light is not None
        assert reparses == []  # the first stylesheet already had the theme's variables
        assert app.screen_stack[0].styles.background == Color.parse(light.background or "")
        assert app.has_class("-theme-perftui-light") and app.has_class("-light-mode")
        app.theme = "perftui-dark"
        await pilot.pause()
        dark = app.get_theme("perftui-dark")
        assert dark is not None
        assert reparses == ["perftui-dark"]
        assert app.screen_stack[0].styles.background == Color.parse(dark.background or "")
        assert app.has_class("-dark-mode") and not app.has_class("-theme-perftui-light")
