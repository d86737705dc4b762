"""Snapshots of the dashboard attached to a process (fake tree and stacks): tree view and stacks view.

Update with `pytest tests/ui/test_snapshots_attached.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import make_app
from tests.ui.test_process_pane import attach_store


def attached(n_gpus: int = 1) -> Any:
    app, store, _ = make_app(n_gpus)
    assert store.last_ts is not None
    attach_store(store, store.last_ts)
    return app


@pytest.mark.parametrize("size", [(120, 40), (160, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_attached_tree(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(attached(), terminal_size=size)


def test_attached_stacks(snap_compare: Any) -> None:
    assert snap_compare(attached(), press=["v"], terminal_size=(160, 60))
