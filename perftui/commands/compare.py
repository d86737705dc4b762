"""`perftui compare BASE NEW`: what improved, what regressed, what is within noise."""

from __future__ import annotations

import argparse
import sys

from perftui.commands.common import error
from perftui.store.reader import RecordingError, open_recording


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", metavar="BASE", help="the recording before the change")
    p.add_argument("new", metavar="NEW", help="the recording after the change")
    p.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")


def run(args: argparse.Namespace) -> int:
    try:
        base = open_recording(args.base)
        new = open_recording(args.new)
    except RecordingError as exc:
        return error(str(exc))
    for rec in (base, new):
        if rec.samples == 0:
            return error(f"{rec.path}: the recording holds no samples")
    from perftui.report.compare import compare
    from perftui.report.render_compare import render_compare_json, render_compare_markdown

    result = compare(base, new)
    text = render_compare_json(result) if args.format == "json" else render_compare_markdown(result)
    sys.stdout.write(text)
    return 0
