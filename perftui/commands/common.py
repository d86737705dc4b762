"""Arguments shared by several subcommands."""

from __future__ import annotations

import argparse
import math
import re
import sys

from perftui.core.sanitize import clean

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def pid_arg(text: str) -> int:
    """An argparse type: a PID in ASCII digits only (`int()` would take "١٢", " 12" or "1_2");
    whether it names a process is `pid_error`'s question, after parsing."""
    if not _ASCII_DIGITS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"invalid PID {clean(text, 40)!r}: digits 0-9 only")
    return int(text)


def finite_float(text: str) -> float:
    """An argparse type: a finite number ("nan", "inf" and overflowing values are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {clean(text, 40)!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {clean(text, 40)!r}")
    return value


def error(message: str) -> int:
    """One line on stderr, control characters shown as escapes; returns the usage exit status 2."""
    print(f"perftui: error: {clean(message, 2000)}", file=sys.stderr)
    return 2


def add_pid_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pid",
        type=pid_arg,
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
        error(err)
        return False
    return True
