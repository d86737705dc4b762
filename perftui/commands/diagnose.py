"""`perftui diagnose`: watch every source for a while (headless), then print the bottleneck verdict.

Samples with the same samplers and runner as the dashboard into a store and feeds the diagnosis
tracker once per interval, as the dashboard does; prints the tracker's verdict at the end over the
last `min(duration, 10 s)`, with the timeline of changes. The tracker's warm-up rule decides short
runs: for its first `hold` seconds (3 s) the verdict is what the window says, without hysteresis,
so `--duration` shorter than that prints the engine's answer over the whole run.

Window, hold and cadence are the tracker's (perftui.diagnosis.tracker), as in the dashboard, the
recorder and the report. Where the answer can still differ from a dashboard that has been running
longer: a dashboard holds its verdict through a near tie (engine.HELD_BONUS) and for `hold` seconds
after a change; `diagnose` starts fresh. The JSON's `pending` (text: "Engine now says") names the
engine's own pick whenever the verdict shown is being held against it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
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
from perftui.diagnosis.tracker import HOLD_S, WINDOW_S, DiagnosisTracker
from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore

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
    progress: Callable[[float, Diagnosis], None] | None = None,
) -> tuple[Diagnosis, DiagnosisTracker, MetricStore]:
    """Sample for `duration` seconds, feeding the tracker each interval; return the verdict to print.

    `progress(elapsed_s, verdict so far)` after each step (the terminal's progress line)."""
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
            if progress is not None:
                progress(time.monotonic() - start, tracker.current)
            next_tick += interval
    finally:
        runner.stop()
    tracker.update(store, window_s)
    return tracker.current, tracker, store


def progress_line(elapsed: float, duration: float, diagnosis: Diagnosis) -> str:
    """What `diagnose` shows while it watches, on a terminal (as `record` does)."""
    so_far = f"{diagnosis.verdict} ({diagnosis.confidence} confidence) so far"
    return f"diagnosing: {min(elapsed, duration):.0f} s of {duration:g} s · {clean_text(so_far)}"


def _sources(store: MetricStore) -> dict[str, dict[str, Any]]:
    return {n: {"available": s.available, "reason": s.reason} for n, s in sorted(store.statuses().items())}


def pending_line(tracker: DiagnosisTracker) -> str:
    """The engine's own pick while the verdict shown is held against it (hysteresis)."""
    assert tracker.pending is not None
    verdict, since = tracker.pending
    held_for = (tracker.last_ts or since) - since
    return f"Engine now says: {verdict} (for {held_for:g} s; shown after {tracker.hold_s:g} s)"


_CG_KEYS = (
    "cpu_quota_cores",
    "cpu_used_cores",
    "throttled_pct",
    "mem_limit_bytes",
    "mem_high_bytes",
    "mem_used_bytes",
    "mem_used_pct",
    "oom_kills",
)
_IO_KINDS = ("rbps", "wbps", "riops", "wiops")


def cgroup_block(store: MetricStore) -> dict[str, Any]:
    """The attached process's cgroup, else perftui's own when it runs in a container; always present."""
    d = store.details("cgroup.")
    groups, name = d.get("cgroup.groups"), d.get("cgroup.attached")
    own: dict[str, Any] = d["cgroup.self"] if isinstance(d.get("cgroup.self"), dict) else {}
    out: dict[str, Any] = {"mode": d.get("cgroup.mode"), "in_container": bool(own.get("in_container"))}
    if isinstance(name, str) and name:
        got = groups.get(name) if isinstance(groups, dict) else None
        info: dict[str, Any] = got if isinstance(got, dict) else {}
        devs: dict[str, Any] = info["io_devices"] if isinstance(info.get("io_devices"), dict) else {}
        p = f"cgroup.{name}."
        io: dict[str, Any] = {}
        for k in _IO_KINDS:
            limit = store.latest(f"{p}io_{k}_limit")
            if limit is not None:
                used = store.latest(f"{p}io_{k}_limit_pct")
                io[k] = {"limit": limit, "used_pct": used, "device": devs.get(k)}
        out.update(of="attached", name=name, label=clean_text(str(info.get("label") or name)))
        out.update({k: store.latest(p + k) for k in _CG_KEYS})
        out["io_limits"] = io
        return out
    if own.get("in_container"):
        keep = ("cpu_quota_cores", "throttled_pct", "mem_limit_bytes", "mem_used_bytes", "io_limits")
        out.update(of="perftui", label=clean_text(str(own.get("label") or "")))
        out.update({k: own.get(k) for k in keep})
        return out
    note = d.get("cgroup.note") or "not attached and not in a container"
    out.update(of=None, note=clean_text(str(note)))
    return out


def result_json(
    diagnosis: Diagnosis, tracker: DiagnosisTracker, store: MetricStore, duration: float
) -> dict[str, Any]:
    """The `--json` object: the verdict with its co-bottleneck (`also`), timeline, pending change."""
    out = diagnosis_json(diagnosis, tracker.timeline)
    pending = tracker.pending
    out["pending"] = None if pending is None else {"verdict": pending[0], "since": pending[1]}
    out["window_s"] = min(duration, WINDOW_S)
    out["duration_s"] = duration
    out["sources"] = _sources(store)
    out["cgroup"] = cgroup_block(store)
    if store.keys("serve."):  # the inference servers' own numbers (--serve): one key per percentile
        out["serving"] = {
            "metrics": {k: store.latest(k) for k in sorted(store.keys("serve."))},
            "servers": store.details("serve."),
        }
    return out


def run(args: argparse.Namespace) -> int:
    err = _check(args)
    if err is not None:
        return error(err)
    if not pid_checked(args):
        return 2
    ok, serving = serving_checked(args)
    if not ok:
        return 2
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(elapsed: float, so_far: Diagnosis) -> None:
        if elapsed - last[0] >= 0.5 or last[0] == 0.0:  # at most twice a second
            last[0] = elapsed
            sys.stderr.write("\r\x1b[2K" + progress_line(elapsed, args.duration, so_far))
            sys.stderr.flush()

    try:
        diagnosis, tracker, store = watch(
            args.duration,
            args.interval,
            gpu=not no_gpu(args),
            pid=getattr(args, "pid", None),
            serving=serving,
            progress=show if tty else None,
        )
    finally:
        if tty:
            sys.stderr.write("\r\x1b[2K")  # the line goes before the result is printed
            sys.stderr.flush()
    if args.json:
        json.dump(redact_value(result_json(diagnosis, tracker, store, args.duration)), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(redact_text(render_text(diagnosis, tracker.timeline)))
        if tracker.pending is not None:
            print(redact_text(pending_line(tracker)))
        down = [
            f"{n}: {clean_text(s['reason'] or '')}" for n, s in _sources(store).items() if not s["available"]
        ]
        if down:
            print(redact_text("Unavailable sources: " + "; ".join(down)))
    return 0
