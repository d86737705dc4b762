"""`perftui scaling REC...`: throughput, per-GPU throughput and scaling efficiency across runs."""

from __future__ import annotations

import argparse
import sys

from perftui.commands.common import error
from perftui.commands.efficiency_args import OptionError, add_efficiency_arguments, efficiency_options
from perftui.core.specs import REGISTRY
from perftui.core.units import Unit
from perftui.store.reader import RecordingError, open_recording


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "recordings", metavar="REC", nargs="+", help="recordings of the same job at different GPU counts"
    )
    p.add_argument(
        "--mode",
        choices=("strong", "weak"),
        default="strong",
        help="strong: same total work in every run (default); weak: same work per GPU",
    )
    p.add_argument(
        "--metric",
        metavar="KEY",
        help="the recorded metric that measures throughput (or a step time in seconds); default: "
        "serving/probe tokens/s, else achieved TFLOP/s summed over GPUs",
    )
    p.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    add_efficiency_arguments(p, price=False)  # --model-params: MFU and FLOPS utilization per run


def _is_time(key: str) -> bool:
    spec = REGISTRY.get(key)
    if spec is not None:
        return spec.unit is Unit.SECONDS
    return key.endswith("_s") and not key.endswith("_per_s")


def run(args: argparse.Namespace) -> int:
    if len(args.recordings) < 2:
        print("perftui: error: scaling needs two or more recordings", file=sys.stderr)
        return 2
    try:
        options = efficiency_options(args)
    except OptionError as exc:
        return error(str(exc))
    from perftui.efficiency.scaling import run_facts, scaling_table
    from perftui.report.render_scaling import render_scaling_json, render_scaling_markdown

    facts = []
    for path in args.recordings:
        try:
            rec = open_recording(path)
        except RecordingError as exc:
            print(f"perftui: error: {exc}", file=sys.stderr)
            return 2
        if rec.samples == 0:
            print(f"perftui: error: {rec.path}: the recording holds no samples", file=sys.stderr)
            return 2
        facts.append(run_facts(rec.path.name, rec.series, rec.meta, rec.details_at(), args.metric, options))
    lower = bool(args.metric) and _is_time(args.metric)
    table = scaling_table(facts, args.mode, args.metric, lower_is_better=lower, options=options)
    sys.stdout.write(render_scaling_json(table) if args.format == "json" else render_scaling_markdown(table))
    return 0
