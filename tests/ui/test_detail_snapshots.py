"""Snapshots of the Enter detail view (issue 24): distinct colours per series, legends above the
plots, one unit per axis, human tick labels, a stats table that fits, at 80x24 and 200x50.
Update baselines with `pytest tests/ui/test_detail_snapshots.py --snapshot-update`."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import make_app


@pytest.mark.parametrize("panel", ["gpu-0", "net"])
@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_detail_view(snap_compare: Any, size: tuple[int, int], panel: str) -> None:
    app, _, _ = make_app(1)

    async def focus(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        pilot.app.set_focus(pilot.app.query_one(f"#{panel}"))
        await pilot.pause()

    assert snap_compare(app, press=["enter"], terminal_size=size, run_before=focus)
