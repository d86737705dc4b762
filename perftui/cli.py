"""The `perftui` entry point.

Subcommands live in `perftui.commands.<name>` modules, each with
`add_arguments(parser)` and `run(args) -> int`. Only the dashboard imports
Textual, and only inside its `run`, so headless commands never load it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from perftui import __version__
from perftui.core import startup_gc

# name -> (module, one-line help). Keep in sync with perftui/commands/.
COMMANDS: dict[str, tuple[str, str]] = {
    "snapshot": (
        "perftui.commands.snapshot",
        "print every metric's latest value and each source's availability",
    ),
    "diagnose": ("perftui.commands.diagnose", "watch, then print what limits the workload and why"),
    "record": ("perftui.commands.record", "record every metric and the diagnosis to a SQLite file"),
    "report": ("perftui.commands.report", "write a Markdown, HTML or JSON report of a recording"),
    "compare": ("perftui.commands.compare", "compare two recordings: what improved, what regressed"),
    "scaling": ("perftui.commands.scaling", "scaling across runs: throughput per GPU, efficiency, overhead"),
    "attach": ("perftui.commands.attach", "the dashboard attached to a process (same as perftui --pid PID)"),
    "stream": (
        "perftui.commands.stream",
        "print one JSON line per tick (values, sources, verdict) for scripts",
    ),
    "fleet": ("perftui.commands.fleet", "many hosts over ssh, one row and verdict each"),
    "replay": ("perftui.commands.replay", "replay a recording in the dashboard: pause, seek, speed"),
    "probe": ("perftui.commands.probe", "load a server; its latency percentiles as users feel them"),
    "exporter": ("perftui.commands.exporter", "serve metrics, diagnosis and source status to Prometheus"),
    "web": ("perftui.commands.web", "the dashboard in a browser through textual-serve (loopback by default)"),
}

DASHBOARD_MODULE = "perftui.commands.dashboard"


class _Parser(argparse.ArgumentParser):
    """Usage errors: ONE line (the error, then where help is), exit 2. What the user typed is
    quoted in the message with control characters shown as escapes."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from perftui.core.sanitize import clean

        text = " ".join(clean(message, 300).split())
        self.exit(2, f"perftui: error: {text} (see `{self.prog} --help`)\n")


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if any (the first bare word that is one)."""
    for arg in argv:
        if arg == "--":
            return None
        if arg in COMMANDS:
            return arg
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `argv`, only the chosen subcommand's module is imported.

    Importing every subcommand (numpy, the diagnosis, the report) costs ~0.3 s, which the
    dashboard's first frame should not pay.
    """
    parser = _Parser(
        prog="perftui",
        description="What is holding your GPU workload back: live GPU, CPU, memory, disk and network "
        "panels with a bottleneck diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"perftui {__version__}")
    try:
        dash = importlib.import_module(DASHBOARD_MODULE)
    except ModuleNotFoundError:
        dash = None
    if dash is not None:
        dash.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = _chosen_command(argv) if argv is not None else None
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def quiet_blas() -> None:
    """numpy's OpenBLAS starts a thread per CPU when it loads (64 on a big GPU server); perftui does
    no linear algebra, so one is enough. Before numpy is imported; a value the user set stays."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    quiet_blas()
    if argv is None:
        argv = sys.argv[1:]
    if _chosen_command(argv) is None:
        startup_gc.hold()  # the dashboard: no collections until its first frame (core/startup_gc.py)
    try:
        return _run(argv)
    finally:
        startup_gc.release(freeze=False)  # however it ended (the first frame released it already)


def _run(argv: Sequence[str]) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            try:
                dash = importlib.import_module(DASHBOARD_MODULE)
            except ModuleNotFoundError:
                parser.print_help()
                return 0
            return int(dash.run(args))
        module = importlib.import_module(COMMANDS[args.command][0])
        return int(module.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
