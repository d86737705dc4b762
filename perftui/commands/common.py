"""Arguments shared by several subcommands."""

from __future__ import annotations

import argparse
import sys


def add_pid_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pid",
        type=int,
        metavar="PID",
        # SUPPRESS: `perftui --pid N snapshot` keeps the top-level value instead of resetting it
        default=argparse.SUPPRESS,
        help="attach to this process and its children (CPU, memory, I/O, GPU use, Python stacks)",
    )


def pid_checked(args: argparse.Namespace) -> bool:
    """False (after one line on stderr) when `--pid` names a process we cannot attach to."""
    from perftui.samplers.factory import pid_error

    err = pid_error(getattr(args, "pid", None))
    if err is not None:
        print(f"perftui: error: {err}", file=sys.stderr)
        return False
    return True
