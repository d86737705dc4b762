"""A detached tmux server of its own (own socket, no config) with one pane of a fixed size."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path


class TmuxSession:
    def __init__(self, width: int, height: int, env: dict[str, str] | None = None) -> None:
        self.socket = f"perftui-bench-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height
        self.env = env if env is not None else clean_env()

    def tmux(self, *args: str, check: bool = True) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            env=self.env,
        ).stdout

    def start(self, shell_command: str) -> None:
        self.tmux(
            "new-session", "-d", "-s", "b", "-x", str(self.width), "-y", str(self.height), shell_command
        )

    def pipe_to(self, path: Path) -> None:
        """Copy everything written to the pane's terminal into `path` (tmux pipe-pane)."""
        self.tmux("pipe-pane", "-o", "-t", "b", f"cat >> {path}")

    def pane_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip())

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "b", check=False)

    def send(self, key: str) -> None:
        self.tmux("send-keys", "-t", "b", key, check=False)

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-L", self.socket, "has-session", "-t", "b"], capture_output=True, env=self.env
            ).returncode
            == 0
        )

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env)


# Not passed on to the tools: the tmux of the caller, and PYTHONDONTWRITEBYTECODE, which makes a
# Python tool compile its source on every start (a pip-installed tool runs from bytecode).
DROPPED = ("TMUX", "COLORTERM", "TMUX_PANE", "PYTHONDONTWRITEBYTECODE")


def clean_env(colorterm: str = "truecolor") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    if colorterm:
        env["COLORTERM"] = colorterm
    return env
