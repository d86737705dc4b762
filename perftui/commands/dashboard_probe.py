"""The dashboard's `--probe URL [probe options]`: the same load, request and budget options as
`perftui probe` (they are `perftui probe`'s own), checked before the dashboard starts, and a
driver that runs each step of the load as a `probe` source writing the dashboard's store.

On the top-level parser the probe's options default to "absent" (argparse.SUPPRESS), so the
subcommands' namespaces never see them; `probe_plan` fills the defaults from `perftui probe`'s own
parser. No Textual here.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from perftui.commands.probe import add_load_arguments

_BUDGET_DESTS = ("slo", "slo_ttft_p99", "slo_itl_p99", "slo_e2e_p99")


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("probe (a controlled load shown as a panel)")
    group.add_argument(
        "--probe",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="load this server (only it) and show its latency as users feel it beside the hardware; "
        "the load options below are `perftui probe`'s (--slo presets shared with --serve)",
    )
    known = set(map(id, parser._actions))
    add_load_arguments(parser, budgets=False)
    for action in parser._actions:
        if id(action) not in known:
            action.default = argparse.SUPPRESS


def _full_namespace(args: argparse.Namespace, url: str) -> argparse.Namespace:
    """`perftui probe URL`'s namespace: its defaults, with what the user gave on the dashboard's line."""
    scratch = argparse.ArgumentParser(add_help=False)
    scratch.add_argument("url")
    add_load_arguments(scratch, budgets=True)
    ns = scratch.parse_args([url])
    for dest in vars(ns):
        if dest != "url" and hasattr(args, dest):
            setattr(ns, dest, getattr(args, dest))
    return ns


def probe_plan(args: argparse.Namespace) -> Any:
    """A probe Plan for `--probe`, None without it; OptionError (one line) for a bad option."""
    url = getattr(args, "probe", None)
    if url is None:
        return None
    from perftui.probe.options import build_plan

    return build_plan(_full_namespace(args, url))


class DashboardProbe:
    """Runs the plan's steps one after another (a sweep: each rate in turn) as the `probe` source;
    each finished step leaves its summary (percentiles with intervals) for the panel's detail view."""

    def __init__(self, store: Any, plan: Any, interval: float = 1.0) -> None:
        self.store = store
        self.plan = plan
        self.interval = interval
        self._stop = threading.Event()
        self._source: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="perftui-probe-steps", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from perftui.probe.live import ProbeSource
        from perftui.probe.summary import summarize

        for load in self.plan.loads:
            if self._stop.is_set():
                return
            source = ProbeSource(self.store, self.plan.target, load, interval=self.interval)
            self._source = source
            source.start()
            while not source.wait(0.2):
                if self._stop.is_set():
                    source.stop()
            source.stop()
            if source.error is not None:
                return  # the source's status already says why
            summary = summarize(
                source.tally.results,
                source.info,
                load,
                streaming=self.plan.streaming,
                budgets=self.plan.budgets,
                sent=source.tally.sent,
            )
            source.set_summary(summary.as_dict())

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        source = self._source
        if source is not None:
            source.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
