"""End to end: the real `perftui` command in a detached tmux, CPU panel up, q, terminal restored."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.polling import wait_for

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
        seen = [""]

        def shown() -> bool:
            seen[0] = self.screen()
            return text in seen[0]

        if wait_for(shown, timeout=timeout, step=0.2):
            return seen[0]
        raise AssertionError(f"{text!r} did not appear within {timeout} s; screen:\n{seen[0]}")

    def wait_redraws(self, n: int, timeout: float) -> bool:
        """Until the screen has shown `n` different pictures (the dashboard redrew n - 1 times)."""
        pictures: set[str] = set()

        def redrawn() -> bool:
            pictures.add(self.screen())
            return len(pictures) >= n

        return wait_for(redrawn, timeout=timeout, step=0.1)

    def wait_still(self, timeout: float, *, settle: float = 1.0) -> str:
        """The screen once it has not changed for `settle` seconds."""
        last = [self.screen(), time.monotonic()]

        def still() -> bool:
            now = self.screen()
            if now != last[0]:
                last[:] = [now, time.monotonic()]
            return time.monotonic() - float(last[1]) >= settle

        assert wait_for(still, timeout=timeout, step=0.1), "the screen kept changing"
        return str(last[0])


def test_dashboard_starts_shows_cpu_and_quits_cleanly(tmux: Tmux) -> None:
    assert PERFTUI.exists(), PERFTUI
    cmd = f"{SETTLE}; {PERFTUI} --no-gpu --interval 0.5; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)
    screen = tmux.wait_for("CPU", timeout=60)
    screen = tmux.wait_for("busiest", timeout=30)  # the CPU panel has data, not just its title
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
    tmux.wait_for("busiest", timeout=60)
    assert tmux.wait_redraws(6, timeout=30)  # several ticks of partial updates
    screen = tmux.screen()
    assert screen.count("╭") >= 5, screen
    assert _boxes_intact(screen) == [], screen
    tmux.run("send-keys", "-t", "e2e", "p")  # freeze the panels: the screen stays what the frames drew
    tmux.wait_for("PAUSED", timeout=20)
    drawn = tmux.wait_still(timeout=20)
    assert "PAUSED" in drawn
    tmux.run("send-keys", "-t", "e2e", "t")  # a new theme repaints the whole screen from scratch
    assert wait_for(lambda: tmux.screen() != drawn, timeout=10)  # the theme's toast
    assert wait_for(lambda: tmux.screen() == drawn, timeout=20)  # gone again: the same picture
    tmux.run("send-keys", "-t", "e2e", "p")
    tmux.run("send-keys", "-t", "e2e", "?")
    tmux.wait_for("perftui keys", timeout=20)
    tmux.run("send-keys", "-t", "e2e", "Escape")
    assert wait_for(lambda: "perftui keys" not in tmux.screen(), timeout=20, step=0.2)
    tmux.run("send-keys", "-t", "e2e", "q")
    assert "PERFTUI_EXIT=0" in tmux.wait_for("PERFTUI_EXIT=", timeout=30)


def test_dashboard_in_a_tiny_terminal_says_so(tmux: Tmux) -> None:
    cmd = f"{SETTLE}; {PERFTUI} --no-gpu; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "60", "-y", "15", cmd)
    tmux.wait_for("terminal too small", timeout=60)
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=30)
    assert "PERFTUI_EXIT=0" in screen and "Traceback" not in screen
