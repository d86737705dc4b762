"""`perftui probe URL`: a controlled load against one server, its latency percentiles as users feel
them (from each request's scheduled send), optionally recorded beside every hardware source."""

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

DURATION_HELP = "measured seconds per step, after the warm-up (default 10)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", metavar="URL", help="the target (only this one is sent requests)")
    add_load_arguments(p)
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the results as JSON")
    out.add_argument("--record", metavar="FILE", help="also record the probe and every hardware source")
    out.add_argument("--force", action="store_true", help="overwrite the --record FILE")
    out.add_argument("--interval", type=float, default=1.0, metavar="S", help="hardware sampling interval")
    out.add_argument("--no-gpu", dest="no_gpu", action="store_true", help="do not sample GPUs")


def add_load_arguments(p: argparse.ArgumentParser, *, budgets: bool = True) -> None:
    """The load, request and budget options (for `perftui probe`, and for the dashboard's `--probe URL`:
    `perftui.probe.options.build_plan` reads them with `args.url` set to the URL). `budgets=False`:
    not the `--slo*` options (the dashboard has them already, shared with `--serve`)."""
    load = p.add_argument_group("load")
    load.add_argument("--rate", metavar="QPS[,QPS…]", help="open loop at QPS requests/s; a list sweeps")
    load.add_argument("--concurrency", metavar="N[,N…]", help="closed loop with N workers; a list sweeps")
    load.add_argument("--arrivals", choices=("poisson", "constant"), default="poisson", help="open-loop gaps")
    load.add_argument("--duration", type=float, metavar="S", help=DURATION_HELP)
    load.add_argument("--requests", type=int, metavar="N", help="measured requests per step")
    load.add_argument(
        "--warmup", type=float, default=0.0, metavar="S", help="seconds sent first, not counted"
    )
    load.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per request (default 30)")
    load.add_argument("--max-rate", type=float, default=1000.0, metavar="QPS", help="refuse rates above it")
    load.add_argument("--seed", type=int, help="seed of the Poisson schedule")
    http = p.add_argument_group("plain HTTP")
    http.add_argument("--method", help="HTTP method (default GET, POST with --body or --openai)")
    http.add_argument("--body", metavar="FILE", help="request body, sent with every request")
    http.add_argument("-H", "--header", action="append", metavar="'NAME: VALUE'", help="extra header")
    http.add_argument("--header-file", metavar="FILE", help="headers, one 'Name: value' a line (credentials)")
    http.add_argument("--api-key-env", metavar="VAR", help="send 'Authorization: Bearer $VAR'")
    oa = p.add_argument_group("OpenAI-compatible streaming")
    oa.add_argument(
        "--openai",
        action="store_true",
        help="stream an OpenAI-compatible endpoint: the URL's path, or /v1/completions when it has none",
    )
    oa.add_argument("--chat", action="store_true", help="with --openai and no path: /v1/chat/completions")
    oa.add_argument("--model", default="default", help="the request's model field")
    oa.add_argument("--input-tokens", type=int, default=32, metavar="N", help="synthetic prompt length")
    oa.add_argument("--output-tokens", type=int, default=64, metavar="N", help="max_tokens per request")
    oa.add_argument(
        "--prompts", metavar="FILE", help="JSONL prompts: strings or {prompt|messages, max_tokens}"
    )
    if not budgets:
        return  # the dashboard's --probe flags: nothing below loads on the dashboard's start
    from perftui.core.slo import SLO_PRESETS

    slo = p.add_argument_group("budgets (goodput and the knee)")
    slo.add_argument("--slo", metavar="NAME", help=f"a preset: {', '.join(SLO_PRESETS)}")
    slo.add_argument("--slo-ttft-p99", metavar="T", help="P99 time-to-first-token budget (e.g. 200ms)")
    slo.add_argument("--slo-itl-p99", metavar="T", help="P99 inter-token budget")
    slo.add_argument("--slo-e2e-p99", metavar="T", help="P99 end-to-end latency budget")


def _error(message: str) -> int:
    print(f"perftui: error: {message}", file=sys.stderr)
    return 2


class _Recording:
    """The store, the samplers and the recorder of `--record` (the same parts `perftui record` uses)."""

    def __init__(self, path: str, args: argparse.Namespace, argv: list[str]) -> None:
        from perftui.samplers.factory import SamplerOptions, build_samplers
        from perftui.samplers.runner import SamplerRunner
        from perftui.store.metric_store import MetricStore
        from perftui.store.recorder import Recorder
        from perftui.store.recording_meta import system_metadata

        self.store = MetricStore(capacity=4096)
        self.recorder = Recorder(
            Path(path), self.store, meta=system_metadata(argv, args.interval), force=args.force
        )
        self.recorder.start()  # RecorderError: the caller says it in one line
        self.runner = SamplerRunner(
            self.store, build_samplers(SamplerOptions(interval=args.interval, gpu=not args.no_gpu))
        )
        self.runner.start()
        from perftui.commands.record import RecordingDiagnosis  # the same live diagnosis `record` writes

        self.tracker = RecordingDiagnosis(self.recorder)
        self._next_diagnosis = time.monotonic()

    def step(self) -> None:
        """The diagnosis timeline, updated about once a second."""
        if time.monotonic() >= self._next_diagnosis:
            self.tracker.step(self.store)
            self._next_diagnosis = time.monotonic() + 1.0

    def close(self, probe_meta: dict[str, Any]) -> str | None:
        self.runner.stop()
        self.tracker.step(self.store)
        self.recorder.set_meta("probe", probe_meta)
        self.recorder.close()
        return self.recorder.error


def _progress(source: Any, started: float, label: str) -> str:
    from perftui.probe.live import running_table

    t = source.tally
    table = running_table(t.results[-2000:], source.streaming)
    metric = "ttft" if source.streaming else "latency"
    p99 = table.get(metric, {}).get("p99")
    from perftui.core.slo import format_seconds

    shown = format_seconds(p99) if p99 is not None else "-"
    return (
        f"probe {label}: sent {t.sent:,}  done {t.done:,}  errors {t.errors:,}  in flight {t.in_flight:,}  "
        f"{time.monotonic() - started:5.1f} s  P99 {metric} (last 2000) {shown}"
    )


def run(args: argparse.Namespace) -> int:
    from perftui.probe.options import OptionError, build_plan, redacted_argv

    try:
        plan = build_plan(args)
    except OptionError as exc:
        return _error(str(exc))
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        from perftui.probe.client import MISSING_CLIENT

        return _error(MISSING_CLIENT)
    from perftui.probe.live import ProbeSource
    from perftui.probe.render import summary_lines, sweep_lines
    from perftui.probe.summary import Summary, summarize
    from perftui.probe.sweep import find_knee

    argv = redacted_argv(sys.argv)
    rec = None
    if args.record:
        from perftui.store.recorder import RecorderError

        try:
            rec = _Recording(args.record, args, argv)
        except RecorderError as exc:
            return _error(str(exc))
    stop = threading.Event()
    signals: list[str] = []

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        signals.append(signal.Signals(signum).name)
        stop.set()

    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _on_signal)
    tty = sys.stderr.isatty() and not args.json
    steps: list[Summary] = []
    failure: str | None = None
    try:
        for load in plan.loads:
            source = ProbeSource(rec.store if rec else None, plan.target, load)
            started = time.monotonic()
            source.start()
            while not source.wait(0.5 if tty else 0.2):
                if rec is not None:
                    rec.step()
                if stop.is_set():
                    source.stop()
                    break
                if tty:
                    sys.stderr.write("\r\x1b[2K" + _progress(source, started, load.label))
                    sys.stderr.flush()
            source.stop()
            if tty:
                sys.stderr.write("\r\x1b[2K")
                sys.stderr.flush()
            if source.error is not None:
                failure = source.error
                break
            summary = summarize(
                source.tally.results,
                source.info,
                load,
                streaming=plan.streaming,
                budgets=plan.budgets,
                sent=source.tally.sent,
            )
            if stop.is_set() and summary.stopped is None:
                summary.stopped = "interrupted"
            source.set_summary(summary.as_dict())
            steps.append(summary)
            if not args.json:
                print("\n".join(summary_lines(summary, plan.shown_url)), flush=True)
            if stop.is_set():
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    knee = find_knee(steps, plan.budgets) if len(plan.loads) > 1 else None
    result: dict[str, Any] = {
        "target": plan.shown_url,
        "mode": f"openai {plan.target.api}" if plan.target.api else f"http {plan.target.method}",
        "steps": [s.as_dict() for s in steps],
        "knee": None if knee is None else {"index": knee.index, "rule": knee.rule},
        "interrupted": bool(signals),
    }
    if knee is not None and not args.json:
        print("\n".join(["", *sweep_lines(steps, knee)]))
    if rec is not None:
        err = rec.close(result)
        if err is not None:
            _error(err)
            return 1
        if not args.json:
            print(f"perftui: recorded the probe and the hardware to {args.record}")
    if args.json:
        import json

        print(json.dumps(result, indent=2))
    if failure is not None:
        print(f"perftui: probe failed: {failure}", file=sys.stderr)
        return 1
    if signals:
        return 130
    if any(st.completed and not st.succeeded for st in steps):
        print("perftui: probe: no request succeeded in at least one step (see errors)", file=sys.stderr)
        return 1
    return 0
