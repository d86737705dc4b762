"""Fixtures shared across test folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.test_dashboard_tmux import Tmux


@pytest.fixture(autouse=True, scope="session")
def private_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every perftui the tests start (in process, in tmux, over ssh) reads and writes its config under
    a folder of the test run, never the user's ~/.config: `t` in a dashboard remembers the theme."""
    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "PERFTUI_CONFIG")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ.pop("PERFTUI_CONFIG", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server (its own socket), killed afterwards."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    t = Tmux()
    try:
        yield t
    finally:
        subprocess.run(["tmux", "-L", t.socket, "kill-server"], capture_output=True, timeout=20)


@pytest.fixture
def python_child() -> Iterator[int]:
    """A real Python process that sleeps in a loop until the test ends."""
    proc = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
