"""Helpers for the host sampler tests: a settable clock and fixture file trees."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "proc"


class Clock:
    """A clock the test moves by hand, so rates are exact."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Tree:
    """A /proc- or /sys-like directory written by the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def mkdir(self, rel: str) -> Path:
        path = self.root / rel
        path.mkdir(parents=True, exist_ok=True)
        return path

    def __str__(self) -> str:
        return str(self.root)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def proc(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "proc")


@pytest.fixture
def sys_tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "sys")
