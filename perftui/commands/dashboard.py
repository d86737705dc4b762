"""`perftui` with no subcommand: the live dashboard.

`add_arguments` works on the top-level parser and must not import Textual (headless commands
build the same parser). `run` validates the options, starts the samplers and only then imports
the Textual app.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_INTERVAL = 1.0
DEFAULT_WINDOW = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dashboard (no COMMAND)")
    group.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="S",
        help=f"seconds between samples (0.05-60; default {DEFAULT_INTERVAL:g})",
    )
    group.add_argument(
        "--window",
        type=float,
        default=DEFAULT_WINDOW,
        metavar="S",
        help=f"seconds of sparkline history (10-900; default {DEFAULT_WINDOW:g}; w cycles 1/5/15 min)",
    )
    group.add_argument("--theme", metavar="NAME", default=None, help="colour theme (see the error for names)")
    group.add_argument("--no-gpu", dest="no_gpu", action="store_true", help="do not sample GPUs")


def _error(message: str) -> int:
    print(f"perftui: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from perftui.samplers.runner import MAX_INTERVAL, MIN_INTERVAL

    interval = float(args.interval)
    window = float(args.window)
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        return _error(f"--interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds")
    if not 10 <= window <= 900:
        return _error("--window must be between 10 and 900 seconds")

    from perftui.ui.themes import DEFAULT_THEME, all_theme_names, load_themes

    loaded = load_themes()
    for problem in loaded.errors:
        print(f"perftui: warning: theme file skipped: {problem}", file=sys.stderr)
    names = all_theme_names(loaded)
    theme = args.theme or (DEFAULT_THEME if DEFAULT_THEME in names else "textual-dark")
    if theme not in names:
        return _error(f"unknown theme {theme!r}; valid themes: {', '.join(names)}")
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        return _error("the dashboard needs a terminal (use `perftui snapshot` for plain output)")

    from perftui.samplers.factory import SamplerOptions, build_samplers
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore

    gpu = not getattr(args, "no_gpu", False)
    store = MetricStore()
    runner = SamplerRunner(store, build_samplers(SamplerOptions(interval=interval, gpu=gpu)))
    try:
        from perftui.ui.app import create_app

        app = create_app(
            store,
            runner,
            interval=interval,
            window=window,
            theme=theme,
            themes=loaded,
            gpu_enabled=gpu,
            start_runner=True,  # after the first frame
        )
        result = app.run()
    finally:
        runner.stop(timeout=0.5)
    return int(result or 0)
