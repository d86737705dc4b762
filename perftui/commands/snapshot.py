"""`perftui snapshot`: sample every source for a moment, print the latest values."""

from __future__ import annotations

import argparse
import json
import platform
import socket
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
from perftui.core.redact import redact_value
from perftui.core.sanitize import clean, clean_text
from perftui.core.specs import REGISTRY
from perftui.core.units import natural_key
from perftui.efficiency.flops import missing_figures
from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--duration",
        type=finite_float,
        default=1.0,
        metavar="S",
        help="seconds between the first and the last sample (rates need two; default 1)",
    )
    add_no_gpu_argument(p)
    add_pid_argument(p)
    add_serving_arguments(p)


def host_facts() -> dict[str, Any]:
    import os

    return {
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "os": platform.system(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "time": time.time(),
    }


def collect(
    duration: float, gpu: bool = True, nvml: Any = None, pid: int | None = None, serving: Any = None
) -> MetricStore:
    """Two (or more) ticks of every source, `duration` seconds apart in total."""
    store = MetricStore(capacity=64)
    runner = SamplerRunner(
        store,
        build_samplers(
            SamplerOptions(
                interval=duration, gpu=gpu, nvml=nvml, pid=pid, energy_period_s=0.0, serving=serving
            )
        ),
    )
    try:
        runner.sample_once()
        time.sleep(max(0.0, duration))
        runner.sample_once()
    finally:
        runner.stop()
    return store


def to_json(store: MetricStore) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for key in sorted(store, key=natural_key):
        metrics[key] = {"value": store.latest(key), "unit": REGISTRY.unit(key).value}
    sources = {
        name: {"available": st.available, "reason": st.reason}
        for name, st in sorted(store.statuses().items())
    }
    # command lines (the attached tree's with --pid) are redacted, as in recordings and reports
    details = {k: redact_value(v, k) for k, v in store.details().items() if _jsonable(v)}
    host = {k: clean(v) if isinstance(v, str) else v for k, v in host_facts().items()}
    no_tflops = {f"gpu.{i}.tflops": why for i, why in missing_figures(store, store.details()).items()}
    return {"host": host, "metrics": metrics, "sources": sources, "details": details, "no_figure": no_tflops}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def render_text(store: MetricStore) -> str:
    lines = []
    for name, st in sorted(store.statuses().items()):
        lines.append(f"{name:<10} {'ok' if st.available else 'unavailable: ' + clean_text(st.reason or '')}")
    lines.append("")
    width = max((len(k) for k in store), default=10)
    for key in sorted(store, key=natural_key):
        lines.append(f"{key:<{width}}  {REGISTRY.format(key, store.latest(key)):>12}")
    for i, why in missing_figures(store, store.details()).items():  # achieved TFLOP/s: why none
        lines.append(f"{f'gpu.{i}.tflops':<{width}}  {'—':>12}  {why}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.duration <= 3600:  # 0 s would sample nothing: rejected like record's and diagnose's
        return error("--duration must be more than 0 and at most 3600 seconds")
    if not pid_checked(args):
        return 2
    ok, serving = serving_checked(args)
    if not ok:
        return 2
    store = collect(args.duration, gpu=not no_gpu(args), pid=getattr(args, "pid", None), serving=serving)
    if args.json:
        json.dump(to_json(store), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(render_text(store))
    return 0
