"""`perftui record`: sample every source headless and write everything to one SQLite file."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from perftui.commands.common import (
    add_no_gpu_argument,
    add_pid_argument,
    error,
    finite_float,
    no_gpu,
    pid_checked,
)
from perftui.commands.serving_args import add_serving_arguments, serving_checked
from perftui.core.filenames import timestamped_name, unused_path
from perftui.core.limits import MAX_INTERVAL, MIN_INTERVAL
from perftui.core.units import format_bytes
from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.store.recorder import Recorder, RecorderError
from perftui.store.recording_meta import system_metadata

DIAGNOSIS_WINDOW_S = 10.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="recording file (default: perftui-rec-<host>-<YYYYmmdd-HHMMSS>.sqlite in the current "
        "directory, as the dashboard's r names it)",
    )
    p.add_argument(
        "--duration", type=finite_float, metavar="S", help="stop after S seconds (default: until Ctrl-C)"
    )
    p.add_argument(
        "--interval", type=finite_float, default=1.0, metavar="S", help="sampling interval (default 1)"
    )
    add_no_gpu_argument(p)
    add_pid_argument(p)
    add_serving_arguments(p)
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def default_filename(now: float | None = None, host: str | None = None) -> str:
    """The dashboard's `r` pattern (perftui.core.filenames), one for both."""
    return timestamped_name("rec", "sqlite", host=host, now=now)


MAX_DURATION_S = 366 * 86400.0


def _error(message: str) -> None:
    error(message)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class RecordingDiagnosis:
    """The diagnosis tracker, fed from the live store; perftui.diagnosis.timeline_log writes it."""

    def __init__(self, recorder: Recorder) -> None:
        from perftui.diagnosis.timeline_log import TimelineLog
        from perftui.diagnosis.tracker import DiagnosisTracker

        self._tracker = DiagnosisTracker()
        self._log = TimelineLog(recorder)

    def step(self, store: MetricStore) -> None:
        if store.last_ts is None:
            return
        self._log.write(self._tracker, self._tracker.update(store, DIAGNOSIS_WINDOW_S))


def run(args: argparse.Namespace) -> int:
    if not (MIN_INTERVAL <= args.interval <= MAX_INTERVAL):
        _error(f"--interval must be between {MIN_INTERVAL} and {MAX_INTERVAL:g} seconds")
        return 2
    if args.duration is not None and not 0 < args.duration <= MAX_DURATION_S:
        _error(f"--duration must be more than 0 and at most {MAX_DURATION_S:,.0f} seconds (a year)")
        return 2
    if not pid_checked(args):
        return 2
    ok, serving = serving_checked(args)
    if not ok:
        return 2
    path = Path(args.output) if args.output else unused_path(Path("."), default_filename())
    if not path.parent.is_dir():  # a user's typo, like the other file errors: exit 2, not 1
        _error(f"cannot create {path}: no such directory {path.parent}")
        return 2
    store = MetricStore(capacity=max(64, int(4 * DIAGNOSIS_WINDOW_S / args.interval)))
    recorder = Recorder(path, store, meta=system_metadata(sys.argv, args.interval), force=args.force)
    try:
        recorder.start()
    except RecorderError as exc:
        _error(str(exc))
        return 2 if "already exists" in str(exc) or "not a regular file" in str(exc) else 1
    runner = SamplerRunner(
        store,
        build_samplers(
            SamplerOptions(
                interval=args.interval,
                gpu=not no_gpu(args),
                pid=getattr(args, "pid", None),
                serving=serving,
                proctable=True,
            )
        ),
    )
    stop = threading.Event()
    stop_reason: list[str] = []

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop_reason.append(signal.Signals(signum).name)
        stop.set()

    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _on_signal)
    tty = sys.stderr.isatty()
    tracker = RecordingDiagnosis(recorder)
    started = time.monotonic()
    try:
        runner.start()
        next_diag = started
        while not stop.is_set():
            stop.wait(min(0.5, args.interval))
            now = time.monotonic()
            if now >= next_diag:
                tracker.step(store)
                next_diag = now + max(1.0, args.interval)
            if recorder.error is not None:
                break
            if tty:
                line = (
                    f"recording to {path}  {_clock(now - started)}  {recorder.ticks:,} ticks  "
                    f"{recorder.samples:,} values  {format_bytes(recorder.file_size())}"
                )
                sys.stderr.write("\r\x1b[2K" + line)
                sys.stderr.flush()
            if args.duration is not None and now - started >= args.duration:
                break
    finally:
        runner.stop()
        tracker.step(store)
        recorder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if tty:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
    if recorder.error is not None:
        _error(recorder.error)
        return 1
    elapsed = (recorder.last_ts - recorder.first_ts) if recorder.first_ts and recorder.last_ts else 0.0
    how = f" (stopped by {stop_reason[0]})" if stop_reason else ""
    print(
        f"perftui: recorded {recorder.ticks:,} ticks, {recorder.samples:,} values over {elapsed:.1f} s "
        f"to {path}{how}"
    )
    return 0
