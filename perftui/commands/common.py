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


def add_no_gpu_argument(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: `perftui --no-gpu snapshot` keeps the top-level flag instead of resetting it
    p.add_argument(
        "--no-gpu", dest="no_gpu", action="store_true", default=argparse.SUPPRESS, help="do not sample GPUs"
    )


def no_gpu(args: argparse.Namespace) -> bool:
    """--no-gpu given before or after the subcommand."""
    return bool(getattr(args, "no_gpu", False))


def pid_checked(args: argparse.Namespace) -> bool:
    """False (after one line on stderr) when `--pid` names a process we cannot attach to."""
    from perftui.samplers.factory import pid_error

    err = pid_error(getattr(args, "pid", None))
    if err is not None:
        print(f"perftui: error: {err}", file=sys.stderr)
        return False
    return True
