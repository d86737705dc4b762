"""`perftui attach PID`: the dashboard attached to one process tree (same as `perftui --pid PID`)."""

from __future__ import annotations

import argparse

from perftui.commands import dashboard
from perftui.commands.common import pid_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pid", type=pid_arg, metavar="PID", help="the process to follow, with its children")
    dashboard.add_dashboard_flags(p, pid=False)


def run(args: argparse.Namespace) -> int:
    return dashboard.run(args)
