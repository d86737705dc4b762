"""`perftui replay FILE`: the dashboard driven by a recording (pause, seek, speed).

The file is opened and checked before any UI starts: a missing, foreign or corrupted file is
one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from perftui.commands.common import error, finite_float
from perftui.commands.dashboard import ui_preflight
from perftui.config import theme_help
from perftui.core.limits import DEFAULT_WINDOW, MAX_WINDOW, MIN_WINDOW, window_error

if TYPE_CHECKING:
    from perftui.store.reader import Recording

DEFAULT_SPEED = 1.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a recording made by `perftui record` or the dashboard")
    p.add_argument(
        "--speed",
        type=finite_float,
        default=DEFAULT_SPEED,
        metavar="X",
        help="replay speed, times real time (0.25-100; default 1; ] and [ change it)",
    )
    p.add_argument("--theme", metavar="NAME", default=None, help=theme_help())
    p.add_argument(
        "--window",
        type=finite_float,
        default=DEFAULT_WINDOW,
        metavar="S",
        help=f"seconds of sparkline history ({MIN_WINDOW:g}-{MAX_WINDOW:g}; default {DEFAULT_WINDOW:g})",
    )


def _error(message: str) -> int:
    return error(message)


def opened_recording(args: argparse.Namespace) -> Recording | str:
    """The recording `args.file` opened for a replay at `args.speed` and `args.window`, or the one line
    saying why it cannot be (also `perftui web --replay`'s check, before it serves)."""
    from perftui.store.reader import RecordingError, open_recording
    from perftui.ui.replay import MAX_SPEED, MIN_SPEED

    if not MIN_SPEED <= args.speed <= MAX_SPEED:
        return f"--speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}"
    bad = window_error(args.window)
    if bad:
        return bad
    try:
        rec = open_recording(args.file)
    except RecordingError as exc:
        return str(exc)
    if rec.start is None or rec.samples == 0:
        return f"{args.file}: the recording holds no samples"
    return rec


def run(args: argparse.Namespace) -> int:
    rec = opened_recording(args)
    if isinstance(rec, str):
        return _error(rec)
    ready = ui_preflight(args.theme)
    if isinstance(ready, str):
        return _error(ready)
    theme, loaded = ready

    from perftui.ui.app import create_replay_app
    from perftui.ui.options import AppOptions
    from perftui.ui.replay import ReplayDriver

    driver = ReplayDriver(rec, speed=args.speed)
    from perftui.config import config_path

    options = AppOptions(theme=theme, themes=loaded, window=float(args.window), config_file=config_path())
    app = create_replay_app(driver, options)
    result = app.run()
    app.stop_recording_now()  # reports written in threads are finished
    for path in app.files.reports_written:
        print(f"perftui: wrote report {path}", file=sys.stderr)
    # A crash inside the app (Textual prints its traceback and returns None) is a failure, not 0.
    code = getattr(app, "return_code", None)
    if isinstance(code, int) and code != 0:
        return code
    return int(result or 0)
