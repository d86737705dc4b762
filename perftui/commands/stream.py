"""`perftui stream`: one JSON object per tick on stdout until stdin closes or the process is killed.

What `perftui fleet` runs on each host over ssh, and useful alone for scripts. The same samplers,
runner and diagnosis tracker as `perftui record`; the line format is `perftui.fleet.protocol`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from perftui.commands.common import add_no_gpu_argument, add_pid_argument, no_gpu, pid_checked
from perftui.commands.serving_args import add_serving_arguments, serving_checked
from perftui.core.limits import MAX_INTERVAL, MIN_INTERVAL
from perftui.fleet.protocol import Verdict, encode_tick
from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.store.recording_meta import gpu_metadata, system_metadata

DIAGNOSIS_WINDOW_S = 10.0
HOST_FACTS = ("host", "cpu_model", "cpu_cores_logical", "memory_bytes", "os", "kernel", "perftui")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--interval", type=float, default=1.0, metavar="S", help="seconds between lines (default 1)"
    )
    p.add_argument("--count", type=int, metavar="N", help="stop after N lines (default: until stdin closes)")
    p.add_argument(
        "--ignore-stdin", action="store_true", help="keep streaming when stdin closes (stop on a signal)"
    )
    add_no_gpu_argument(p)
    add_pid_argument(p)
    add_serving_arguments(p)  # --serve URL: the `serve.*` keys (a fleet row's serving P99)


def host_facts(store: MetricStore, interval: float) -> dict[str, Any]:
    meta = system_metadata([], interval)
    facts = {k: meta[k] for k in HOST_FACTS if k in meta}
    gpus = gpu_metadata(store.details("gpu."))
    facts["gpus"] = [
        {k: g.get(k) for k in ("index", "name", "memory_total_bytes", "power_limit_w", "architecture")}
        for g in gpus.get("gpus", [])
        if isinstance(g, dict)
    ]
    if "gpu_driver" in gpus:
        facts["gpu_driver"] = gpus["gpu_driver"]
    return facts


class _Diagnosis:
    def __init__(self) -> None:
        from perftui.diagnosis.tracker import DiagnosisTracker

        self._tracker = DiagnosisTracker()

    def verdict(self, store: MetricStore) -> Verdict | None:
        if store.last_ts is None:
            return None
        d = self._tracker.update(store, DIAGNOSIS_WINDOW_S)
        f = d.primary
        return Verdict(
            d.verdict, d.confidence, f.title if f else "", f.evidence[0] if f and f.evidence else ""
        )


def latest_values(store: MetricStore, since: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in store:
        point = store.latest_with_ts(key)
        if point is not None and point[0] >= since:
            out[key] = point[1]
    return out


def _first_rates(store: MetricStore, stop: threading.Event, timeout: float) -> None:
    """Wait (bounded) for the CPU's first rate: it needs two reads, and a first line without
    `cpu.util` would show the host as blank for a whole interval in every fleet row."""
    end = time.monotonic() + timeout
    while "cpu.util" not in store and not stop.is_set() and time.monotonic() < end:
        status = store.status("cpu")
        if status is not None and not status.available:
            return
        stop.wait(0.02)


def _watch_stdin(stop: threading.Event) -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


def run(args: argparse.Namespace) -> int:
    if not (MIN_INTERVAL <= args.interval <= MAX_INTERVAL):
        print(
            f"perftui: error: --interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds",
            file=sys.stderr,
        )
        return 2
    if args.count is not None and args.count < 1:
        print("perftui: error: --count must be at least 1", file=sys.stderr)
        return 2
    if not pid_checked(args):
        return 2
    ok, serving = serving_checked(args)
    if not ok:
        return 2
    interval = float(args.interval)
    store = MetricStore(capacity=max(64, int(2 * DIAGNOSIS_WINDOW_S / interval) + 8))
    runner = SamplerRunner(
        store,
        build_samplers(
            SamplerOptions(
                interval=interval, gpu=not no_gpu(args), pid=getattr(args, "pid", None), serving=serving
            )
        ),
    )
    stop = threading.Event()
    if not args.ignore_stdin and sys.stdin is not None:
        threading.Thread(target=_watch_stdin, args=(stop,), name="stdin-watch", daemon=True).start()
    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, _on_signal)
    diagnosis = _Diagnosis()
    out = sys.stdout
    seq = 0
    known: set[str] = set()
    try:
        runner.start()
        _first_rates(store, stop, max(2.0, 3 * interval))
        next_tick = time.monotonic() + interval
        while not stop.wait(max(0.0, next_tick - time.monotonic())):
            next_tick += interval
            now = time.time()
            values = latest_values(store, now - 2.5 * interval)
            sources = {n: (s.available, s.reason) for n, s in store.statuses().items()}
            host = host_facts(store, interval) if seq == 0 else None
            verdict = diagnosis.verdict(store)
            out.write(encode_tick(seq, now, interval, values, sources, verdict, host, known) + "\n")
            out.flush()
            seq += 1
            if args.count is not None and seq >= args.count:
                break
    except BrokenPipeError:
        pass
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
