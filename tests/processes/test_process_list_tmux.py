"""The real `perftui` in tmux (200×50) with a known busy process: it shows in the process list,
`a` attaches to it live, `a` again detaches back to the list."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.test_dashboard_tmux import PERFTUI, SETTLE, Tmux
from tests.polling import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def spinner() -> Iterator[int]:
    child = subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n", "perftui-e2e-spinner"])
    yield child.pid
    child.kill()
    child.wait()


def test_busy_process_listed_then_attached_and_detached(tmux: Tmux, spinner: int) -> None:
    cmd = f"{SETTLE}; {PERFTUI} --no-gpu --interval 1; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "200", "-y", "50", cmd)
    tmux.wait_for("Processes (", timeout=60)
    # the list is by CPU: the spinner is in the rows the pane shows (the CPU is shared with others)
    screen = tmux.wait_for(f" {spinner} root ", timeout=30)
    row = next(ln for ln in screen.splitlines() if f" {spinner} root " in ln)
    assert " R " in row and "Traceback" not in screen  # running
    tmux.run("send-keys", "-t", "e2e", "BTab")  # shift+tab: back to the last, the process pane
    tmux.wait_for("a Attach", timeout=20)  # the pane's keys are in the footer once it has focus
    tmux.run("send-keys", "-t", "e2e", "/")
    tmux.wait_for("filter: ▏", timeout=20)
    # filter to it, so it is the selected row whatever else runs
    tmux.run("send-keys", "-t", "e2e", "-l", "perftui-e2e")
    tmux.run("send-keys", "-t", "e2e", "Enter")
    tmux.wait_for("filter: perftui-e2e", timeout=20)
    tmux.run("send-keys", "-t", "e2e", "a")
    screen = tmux.wait_for(f"PID {spinner} python", timeout=30)
    assert "Process tree" in screen
    tmux.run("send-keys", "-t", "e2e", "a")
    assert wait_for(lambda: "Process tree" not in tmux.screen(), timeout=20, step=0.2)
    tmux.wait_for("filter: perftui-e2e", timeout=20)  # back to the list as it was
    tmux.run("send-keys", "-t", "e2e", "q")
    assert "PERFTUI_EXIT=0" in tmux.wait_for("PERFTUI_EXIT=", timeout=30)
