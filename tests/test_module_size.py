"""Modules stay at most 400 lines, named for what they hold (the developers' guide): a module that
grows past it gets split where its parts separate, not trimmed of comments."""

from __future__ import annotations

from pathlib import Path

import perftui

MAX_LINES = 400


def test_every_module_is_at_most_400_lines() -> None:
    root = Path(perftui.__file__).parent
    too_long = {
        str(p.relative_to(root)): n
        for p in sorted(root.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
