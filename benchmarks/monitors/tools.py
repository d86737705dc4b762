"""The monitors compared: how to start each, recognise its complete frame, poke it, and quit it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dashboard_bench import PERFTUI  # the project's own perftui script next to this interpreter

# Glances and nvitop come from PyPI into a venv of their own (not the project's).
EXTRA_VENV = Path("/tmp/monitors-venv")


@dataclass(frozen=True)
class Tool:
    name: str  # label in the results ("perftui@0.1s" for a variant)
    argv: tuple[str, ...]
    # A frame is complete when every one of these strings is on the screen: top and bottom parts,
    # and at least one measured value (a row that only appears once a sample is in).
    frame_markers: tuple[str, ...]
    help_key: str  # a key that opens a screen showing `help_marker`
    help_marker: str
    close_key: str  # the key that closes it again
    quit_key: str = "q"
    refresh_s: float = 1.0  # the refresh interval it runs at
    # Files written under a fresh XDG_CONFIG_HOME for the run: (relative path, content).
    config_files: tuple[tuple[str, str], ...] = ()

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def available(self) -> bool:
        return Path(self.argv[0]).exists() or shutil.which(self.argv[0]) is not None


def perftui(interval: float = 1.0) -> Tool:
    name = "perftui" if interval == 1.0 else f"perftui@{interval:g}s"
    return Tool(
        name=name,
        argv=(str(PERFTUI), "--interval", f"{interval:g}"),
        frame_markers=("Diagnosis", "Quit", "used "),  # the memory "used" row: first values are in
        help_key="?",
        help_marker="perftui keys",
        close_key="Escape",
        refresh_s=interval,
    )


def bare_textual() -> Tool:
    """Not a monitor: a bare Textual app (the floor for perftui's first frame and memory)."""
    script = Path(__file__).with_name("bare_textual.py")
    return Tool(
        "textual (bare app)",
        (str(Path(sys.executable)), str(script)),
        ("bare Textual app", "Quit"),
        "?",
        "bare help",
        "Escape",
    )


def btop() -> Tool:
    # btop has no flag for its refresh (default 2000 ms): a config file of its own sets 1000 ms.
    return Tool(
        "btop",
        ("btop",),
        ("cpu", "Total:", "Pid:"),
        "?",
        "Description:",
        "Escape",
        config_files=(("btop/btop.conf", "update_ms = 1000\n"),),
    )


def htop() -> Tool:
    # -d is in tenths of a second: 10 = 1 s refresh, as perftui.
    return Tool("htop", ("htop", "-d", "10"), ("Load average:", "Tasks:", "Quit"), "h", "CPU usage bar", "q")


def glances(venv: Path = EXTRA_VENV) -> Tool:
    return Tool(
        "glances",
        (str(venv / "bin" / "glances"), "-t", "1"),
        ("CPU", "LOAD"),
        "h",
        "SORT PROCESSES",
        "h",
    )


def nvitop_status(venv: Path = EXTRA_VENV) -> str:
    """Run nvitop once and return what happened, in one line (it needs the NVIDIA driver)."""
    binary = venv / "bin" / "nvitop"
    if not binary.exists():
        return "not installed"
    try:
        res = subprocess.run([str(binary), "--once"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "did not exit within 30 s"
    text = (res.stderr + res.stdout).strip()
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if res.returncode != 0 and "NVML" in text:
        return f"exits {res.returncode}: no NVIDIA driver ({first[:90]})"
    return f"exits {res.returncode}: {first[:120]}"


def all_tools(venv: Path = EXTRA_VENV) -> list[Tool]:
    return [perftui(1.0), perftui(0.1), btop(), htop(), glances(venv), bare_textual()]
