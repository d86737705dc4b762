"""`perftui diagnose`: watch every source for a while (headless), then print the bottleneck verdict.

Samples with the same samplers and runner as the dashboard into a store and feeds the diagnosis
tracker once per interval, as the dashboard does; prints the tracker's verdict at the end over the
last `min(duration, 10 s)`, with the timeline of changes. The tracker's warm-up rule decides short
runs: for its first `hold` seconds (3 s) the verdict is what the window says, without hysteresis,
so `--duration` shorter than that prints the engine's answer over the whole run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
from perftui.core.limits import MAX_INTERVAL, MIN_INTERVAL
from perftui.core.redact import redact_text, redact_value
from perftui.core.sanitize import clean_text
from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.render import diagnosis_json, render_text
from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore

HOLD_S = 3.0
WINDOW_S = 10.0
MAX_DURATION = 3600.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--duration",
        type=finite_float,
        default=10.0,
        metavar="S",
        help="seconds to watch (default 10); the verdict covers the last 10 s at most",
    )
    p.add_argument(
        "--interval", type=finite_float, default=1.0, metavar="S", help="seconds between samples (default 1)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_no_gpu_argument(p)
    add_pid_argument(p)
    add_serving_arguments(p)


def _check(args: argparse.Namespace) -> str | None:
    if not (0 < args.duration <= MAX_DURATION):
        return f"--duration must be more than 0 and at most {MAX_DURATION:g} seconds"
    if not (MIN_INTERVAL <= args.interval <= MAX_INTERVAL):
        return f"--interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds"
    if args.interval > args.duration:
        return "--interval must not be longer than --duration"
    return None


def watch(
    duration: float,
    interval: float,
    gpu: bool = True,
    nvml: Any = None,
    pid: int | None = None,
    serving: Any = None,
) -> tuple[Diagnosis, DiagnosisTracker, MetricStore]:
    """Sample for `duration` seconds, feeding the tracker each interval; return the verdict to print."""
    window_s = min(duration, WINDOW_S)
    store = MetricStore(capacity=int(window_s / interval) * 2 + 64)  # the window, with room to spare
    tracker = DiagnosisTracker(hold_s=HOLD_S)
    runner = SamplerRunner(
        store,
        build_samplers(
            SamplerOptions(interval=interval, gpu=gpu, nvml=nvml, pid=pid, serving=serving, proctable=True)
        ),
    )
    start = time.monotonic()
    runner.start()
    try:
        next_tick = start + interval
        while True:
            now = time.monotonic()
            end = start + duration
            time.sleep(max(0.0, min(next_tick, end) - now))
            tracker.update(store, window_s)
            if time.monotonic() >= end:
                break
            next_tick += interval
    finally:
        runner.stop()
    tracker.update(store, window_s)
    return tracker.current, tracker, store


def _sources(store: MetricStore) -> dict[str, dict[str, Any]]:
    return {n: {"available": s.available, "reason": s.reason} for n, s in sorted(store.statuses().items())}


def run(args: argparse.Namespace) -> int:
    err = _check(args)
    if err is not None:
        return error(err)
    if not pid_checked(args):
        return 2
    ok, serving = serving_checked(args)
    if not ok:
        return 2
    diagnosis, tracker, store = watch(
        args.duration, args.interval, gpu=not no_gpu(args), pid=getattr(args, "pid", None), serving=serving
    )
    if args.json:
        out = diagnosis_json(diagnosis, tracker.timeline)
        out["duration_s"] = args.duration
        out["sources"] = _sources(store)
        if store.keys("serve."):  # the inference servers' own numbers (--serve): one key per percentile
            out["serving"] = {
                "metrics": {k: store.latest(k) for k in sorted(store.keys("serve."))},
                "servers": store.details("serve."),
            }
        json.dump(redact_value(out), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(redact_text(render_text(diagnosis, tracker.timeline)))
        down = [
            f"{n}: {clean_text(s['reason'] or '')}" for n, s in _sources(store).items() if not s["available"]
        ]
        if down:
            print(redact_text("Unavailable sources: " + "; ".join(down)))
    return 0
