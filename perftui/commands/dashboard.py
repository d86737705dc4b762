"""`perftui` with no subcommand: the live dashboard.

`add_arguments` works on the top-level parser and must not import Textual (headless commands
build the same parser). `run` validates the options, starts the samplers and only then imports
the Textual app.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from perftui.commands.common import pid_arg
from perftui.config import theme_help
from perftui.core.limits import (
    DEFAULT_INTERVAL,
    DEFAULT_WINDOW,
    MAX_INTERVAL,
    MAX_WINDOW,
    MIN_INTERVAL,
    MIN_WINDOW,
    interval_error,
    window_error,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dashboard (no COMMAND)")
    add_dashboard_flags(group, pid=True)
    from perftui.commands.serving_args import add_serving_arguments

    add_serving_arguments(parser)
    from perftui.commands.dashboard_probe import add_probe_arguments

    add_probe_arguments(parser)


def add_dashboard_flags(group: Any, *, pid: bool) -> None:
    """The dashboard's flags (also `perftui attach PID`'s, which takes the PID as an argument)."""
    group.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds between samples ({MIN_INTERVAL:g}-{MAX_INTERVAL:g}; default {DEFAULT_INTERVAL:g})",
    )
    group.add_argument(
        "--window",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds of sparkline history ({MIN_WINDOW:g}-{MAX_WINDOW:g}; default {DEFAULT_WINDOW:g}; "
        "w cycles 1/5/15 min)",
    )
    group.add_argument("--theme", metavar="NAME", default=None, help=theme_help())
    group.add_argument("--no-gpu", dest="no_gpu", action="store_true", help="do not sample GPUs")
    if pid:
        group.add_argument(
            "--pid",
            type=pid_arg,
            metavar="PID",
            help="attach to this process and its children (CPU, memory, I/O, GPU use, Python stacks)",
        )
    group.add_argument(
        "--record",
        metavar="FILE",
        default=None,
        help="record everything shown (metrics and diagnosis) to FILE while the dashboard runs "
        "(r starts/stops a recording to a timestamped file)",
    )


def _error(message: str) -> int:
    print(f"perftui: error: {message}", file=sys.stderr)
    return 2


def resolve_theme(name: str | None) -> tuple[str, Any] | str:
    """(theme, loaded themes), or the one-line error for an unknown name (warnings on stderr)."""
    from perftui.ui.themes import DEFAULT_THEME, all_theme_names, load_themes

    loaded = load_themes()
    for problem in loaded.errors:
        print(f"perftui: warning: theme file skipped: {problem}", file=sys.stderr)
    names = all_theme_names(loaded)
    theme = name or (DEFAULT_THEME if DEFAULT_THEME in names else "textual-dark")
    if theme not in names:
        return f"unknown theme {theme!r}; valid themes: {', '.join(names)}"
    return theme, loaded


def needs_terminal() -> str | None:
    web = os.environ.get("TEXTUAL_DRIVER", "").endswith("web_driver:WebDriver")  # a `perftui web` tab
    if not web and (not sys.stdout.isatty() or not sys.stdin.isatty()):
        return "the dashboard needs a terminal (use `perftui snapshot` for plain output)"
    return None


def ui_preflight(theme_name: str | None) -> tuple[str, Any] | str:
    """The last checks before a Textual app starts (live or replay): the theme, then a terminal.

    Returns (theme, loaded themes), or the one-line error to print.
    """
    themed = resolve_theme(theme_name)
    if isinstance(themed, str):
        return themed
    return needs_terminal() or themed


def _probe_checked(args: argparse.Namespace) -> Any:
    """The `--probe` plan (None without it), or the one line saying what is wrong (nothing sent)."""
    if getattr(args, "probe", None) is None:
        return None  # the probe's modules (aiohttp: ~10 MB, ~0.1 s) load only when asked for
    from perftui.commands.dashboard_probe import probe_plan
    from perftui.probe.options import OptionError

    try:
        plan = probe_plan(args)
    except OptionError as exc:
        return f"--probe: {exc}"
    if plan is not None:
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            from perftui.probe.client import MISSING_CLIENT

            return MISSING_CLIENT
    return plan


def run(args: argparse.Namespace) -> int:
    from perftui.commands.common import pid_checked
    from perftui.config import ConfigError, config_path, load_config

    try:
        cfg = load_config().merged(interval=args.interval, window=args.window, theme=args.theme)
    except ConfigError as exc:
        return _error(str(exc))
    if getattr(args, "no_gpu", False):
        cfg = cfg.merged(gpu=False)
    interval = float(cfg.interval)
    window = float(cfg.window)
    bad = interval_error(interval) or window_error(window)
    if bad:
        return _error(bad)

    if not pid_checked(args):
        return 2
    from perftui.commands.serving_args import serving_checked

    ok, serving = serving_checked(args)
    if not ok:
        return 2
    probe_or_error = _probe_checked(args)
    if isinstance(probe_or_error, str):
        return _error(probe_or_error)
    record = getattr(args, "record", None)
    if record is not None and Path(record).exists():
        return _error(f"{record} already exists (choose another --record FILE)")
    ready = ui_preflight(cfg.theme)
    if isinstance(ready, str):
        return _error(ready)
    theme, loaded = ready

    from perftui.samplers.factory import SamplerOptions, build_samplers
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore, capacity_for

    gpu = cfg.gpu
    pid = getattr(args, "pid", None)
    # the rings hold the longest window (w cycles up to 15 min) at this interval, no more
    store = MetricStore(capacity=capacity_for(MAX_WINDOW, interval))
    recording = None
    if record is not None:
        from perftui.ui.session_io import LiveRecording, RecorderError

        try:
            recording = LiveRecording.start(Path(record), store, interval=interval)
        except RecorderError as exc:
            return _error(str(exc))
    runner = SamplerRunner(
        store,
        build_samplers(SamplerOptions(interval=interval, gpu=gpu, pid=pid, serving=serving, proctable=True)),
        hold_deferred=True,  # the process table's priming pass waits for the first frame (the screen)
    )
    # Samplers start now, on a thread of their own (NVML's init can take a while): their first values
    # land while Textual is imported and starts, so the first frame already has them.
    import threading

    starter = threading.Thread(target=runner.start, name="perftui-start", daemon=True)
    starter.start()
    probe = None
    if probe_or_error is not None:
        from perftui.commands.dashboard_probe import DashboardProbe

        probe = DashboardProbe(store, probe_or_error, interval=max(interval, 1.0))
        probe.start()
    try:
        from perftui.ui.app import create_app
        from perftui.ui.options import AppOptions

        options = AppOptions(
            interval=interval,
            window=window,
            theme=theme,
            themes=loaded,
            gpu_enabled=gpu,
            config_file=config_path(),  # t remembers the theme there
        )
        app = create_app(store, runner, options, recording=recording)
        result = app.run()
        app.stop_recording_now()  # however the app ended, the file is finished
    finally:
        if probe is not None:
            probe.stop()
        starter.join(timeout=5.0)  # a quit within the first instant: let start finish, then stop
        runner.stop(timeout=0.5)
        if recording is not None and recording.recorder.running:
            recording.stop()
    for path in [*app.files.recordings_made, *app.files.reports_written]:
        print(f"perftui: wrote {path}", file=sys.stderr)
    return int(result or 0)
