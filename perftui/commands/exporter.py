"""`perftui exporter`: serve every perftui metric, the diagnosis and source status to Prometheus."""

from __future__ import annotations

import argparse
import importlib
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from perftui.commands.common import add_no_gpu_argument, add_pid_argument, no_gpu, pid_checked
from perftui.core.limits import MAX_INTERVAL, MIN_INTERVAL
from perftui.exporter.server import DEFAULT_LISTEN, ListenError, is_loopback, parse_listen

DEFAULT_INTERVAL = 2.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address to serve /metrics on (default {DEFAULT_LISTEN}; loopback unless you say otherwise)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="S",
        help=f"sampling interval, independent of the scrape interval (default {DEFAULT_INTERVAL:g})",
    )
    p.add_argument(
        "--compat",
        choices=["dcgm"],
        help="also expose the GPU metrics under dcgm-exporter's names, units and labels",
    )
    p.add_argument(
        "--web-config",
        metavar="FILE",
        help="TLS and basic auth, in node_exporter's web-config.yml format",
    )
    add_no_gpu_argument(p)
    add_pid_argument(p)
    serving = _serving_args()
    if serving is not None:
        serving.add_serving_arguments(p)  # --serve URL: the serving source's `serve.*` keys


def _serving_args() -> Any:
    """The serving source's shared flags (`--serve`, `--slo`, …) where this build has them."""
    try:
        return importlib.import_module("perftui.commands.serving_args")
    except ModuleNotFoundError:
        return None


def _error(message: str) -> int:
    print(f"perftui: error: {message}", file=sys.stderr)
    return 2


def serve(
    args: argparse.Namespace,
    *,
    nvml: Any = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """The whole command; `nvml` (a fake module), `stop` and `on_ready` let tests run it in a thread."""
    from perftui.exporter.collector import StoreCollector
    from perftui.exporter.live import LiveDiagnosis, LiveExporter, diagnosis_window_s
    from perftui.exporter.server import ExporterServer
    from perftui.exporter.webconfig import WebConfigError, load_web_config
    from perftui.samplers.factory import SamplerOptions, build_samplers
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore, capacity_for

    if not (MIN_INTERVAL <= args.interval <= MAX_INTERVAL):
        return _error(f"--interval must be between {MIN_INTERVAL} and {MAX_INTERVAL:g} seconds")
    try:
        host, port = parse_listen(args.listen)
    except ListenError as exc:
        return _error(str(exc))
    if not pid_checked(args):
        return 2
    ssl_context, auth = None, None
    if args.web_config:
        try:
            config = load_web_config(args.web_config)
            ssl_context, auth = config.ssl_context(), config.authenticator()
        except WebConfigError as exc:
            return _error(str(exc))
    extra: dict[str, Any] = {}
    serving_args = _serving_args()
    if serving_args is not None:
        ok, serving = serving_args.serving_checked(args)
        if not ok:
            return 2
        if serving is not None:
            extra["serving"] = serving
    window = diagnosis_window_s(args.interval)
    store = MetricStore(capacity=capacity_for(2 * window, args.interval))
    diagnosis = LiveDiagnosis(store, window, period=max(1.0, args.interval))
    collector = StoreCollector(
        store,
        host=socket.gethostname(),
        compat_dcgm=args.compat == "dcgm",
        diagnosis=lambda: diagnosis.current,
    )
    try:
        server = ExporterServer(
            host, port, LiveExporter.registry_for(collector), ssl_context=ssl_context, auth=auth
        )
    except ListenError as exc:
        return _error(str(exc))  # before any sampler (NVML) has started
    if not is_loopback(host):
        print(
            f"perftui: warning: serving on {host}, reachable from other machines"
            + ("" if auth else " without authentication (see --web-config)"),
            file=sys.stderr,
        )
    samplers = build_samplers(
        SamplerOptions(
            interval=args.interval,
            gpu=not no_gpu(args),
            pid=getattr(args, "pid", None),
            nvml=nvml,
            **extra,
        )
    )
    collector.intervals = {s.name: s.interval for s in samplers}
    exporter = LiveExporter(store, SamplerRunner(store, samplers), server, collector, diagnosis)
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    try:
        exporter.start()
        print(f"perftui: serving {server.url} (sampling every {args.interval:g} s)", file=sys.stderr)
        if on_ready is not None:
            on_ready(server.url)
        stop.wait()
    finally:
        exporter.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def run(args: argparse.Namespace) -> int:
    return serve(args)
