"""End to end: the real `perftui` command in a detached tmux, CPU panel up, q, terminal restored."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

PERFTUI = Path(sys.executable).parent / "perftui"
# A detached tmux may create the pane at its default size and resize it to -x/-y a moment later;
# a program that starts inside that moment can miss the SIGWINCH. Let the pane settle first.
SETTLE = "sleep 0.5"


class Tmux:
    def __init__(self) -> None:
        self.socket = f"perftui-e2e-{uuid.uuid4().hex[:10]}"

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e")

    def flag(self, name: str) -> str:
        return self.run("display-message", "-p", "-t", "e2e", f"#{{{name}}}").strip()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; screen:\n{screen}")


def test_dashboard_starts_shows_cpu_and_quits_cleanly(tmux: Tmux) -> None:
    assert PERFTUI.exists(), PERFTUI
    cmd = f"{SETTLE}; {PERFTUI} --no-gpu --interval 0.5; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)
    screen = tmux.wait_for("CPU", timeout=60)
    screen = tmux.wait_for("cores", timeout=30)  # the CPU panel has data, not just its title
    assert "Memory" in screen and "q Quit" in screen
    assert "Traceback" not in screen
    assert tmux.flag("alternate_on") == "1"  # the dashboard runs in the alternate screen
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=30)
    assert "PERFTUI_EXIT=0" in screen, screen
    assert "Traceback" not in screen
    # the terminal was restored: alternate screen left, cursor visible, mouse reporting off
    assert tmux.flag("alternate_on") == "0"
    assert tmux.flag("cursor_flag") == "1"
    assert tmux.flag("mouse_any_flag") == "0"


def _boxes_intact(screen: str) -> list[str]:
    """Lines where a panel's side border is not where its top corner says it is."""
    lines = screen.splitlines()
    bad: list[str] = []
    for top, line in enumerate(lines):
        for left in (i for i, ch in enumerate(line) if ch == "╭"):
            right = line.find("╮", left)
            y = top + 1
            while y < len(lines) and len(lines[y]) > right and lines[y][left] == "│":
                if lines[y][right] != "│":
                    bad.append(lines[y])
                y += 1
    return bad


def test_partial_redraws_land_in_place_and_escape_closes_help(tmux: Tmux) -> None:
    """Several seconds of span-by-span frames leave the screen exactly as a full redraw draws it,
    and a lone Escape (the input thread's timeout path) closes the help screen."""
    cmd = f"{SETTLE}; {PERFTUI} --no-gpu --interval 0.5; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "160", "-y", "45", cmd)
    tmux.wait_for("cores", timeout=60)
    time.sleep(4)  # eight ticks of partial updates
    screen = tmux.screen()
    assert screen.count("╭") >= 5, screen
    assert _boxes_intact(screen) == [], screen
    tmux.run("send-keys", "-t", "e2e", "p")  # freeze the panels: the screen stays what the frames drew
    time.sleep(1.5)
    drawn = tmux.screen()
    assert "PAUSED" in drawn
    tmux.run("send-keys", "-t", "e2e", "t")  # a new theme repaints the whole screen from scratch
    time.sleep(3.5)  # the theme's toast has gone again
    assert tmux.screen() == drawn
    tmux.run("send-keys", "-t", "e2e", "p")
    tmux.run("send-keys", "-t", "e2e", "?")
    tmux.wait_for("perftui keys", timeout=20)
    tmux.run("send-keys", "-t", "e2e", "Escape")
    deadline = time.monotonic() + 20
    while "perftui keys" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "perftui keys" not in tmux.screen()
    tmux.run("send-keys", "-t", "e2e", "q")
    assert "PERFTUI_EXIT=0" in tmux.wait_for("PERFTUI_EXIT=", timeout=30)


def test_dashboard_in_a_tiny_terminal_says_so(tmux: Tmux) -> None:
    cmd = f"{SETTLE}; {PERFTUI} --no-gpu; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "60", "-y", "15", cmd)
    tmux.wait_for("terminal too small", timeout=60)
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=30)
    assert "PERFTUI_EXIT=0" in screen and "Traceback" not in screen
