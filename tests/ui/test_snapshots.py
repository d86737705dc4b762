"""Snapshot tests (pytest-textual-snapshot) of the main, help and detail screens.

Deterministic: fixed hostname, fixed data (tests/ui/fakes.py), a fake clock, no render timer
and no diagnosis tracker. Update baselines with `pytest tests/ui --snapshot-update`.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.mark.parametrize("n_gpus", [0, 1, 8])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare: Any, size: tuple[int, int], n_gpus: int) -> None:
    app, _, _ = make_app(n_gpus)
    assert snap_compare(app, terminal_size=size)


def test_help_screen(snap_compare: Any) -> None:
    app, _, _ = make_app(1)
    assert snap_compare(app, press=["question_mark"], terminal_size=(120, 40))


def test_detail_screen(snap_compare: Any) -> None:
    app, _, _ = make_app(1)

    async def focus_gpu(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        pilot.app.set_focus(pilot.app.query_one("#gpu-0"))
        await pilot.pause()

    assert snap_compare(app, press=["enter"], terminal_size=(120, 40), run_before=focus_gpu)


def test_light_theme(snap_compare: Any) -> None:
    app, _, _ = make_app(1, theme="perftui-light")
    assert snap_compare(app, terminal_size=(120, 40))


def test_too_small(snap_compare: Any) -> None:
    app, _, _ = make_app(1)
    assert snap_compare(app, terminal_size=(70, 20))
