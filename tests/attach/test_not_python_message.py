"""The stacks pane reads "stacks unavailable: <reason>": the not-Python reason does not say it again."""

from __future__ import annotations

from perftui.samplers.pyspy import NOT_PYTHON


def test_not_python_says_stacks_unavailable_once() -> None:
    shown = f"stacks unavailable: {NOT_PYTHON}"
    assert shown.count("stacks unavailable") == 1 and "not a Python process" in shown
