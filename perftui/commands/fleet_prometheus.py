"""`perftui fleet --prometheus URL`: the fleet screen (or `--json`) fed by a Prometheus server.

The first poll runs before anything is shown: a bad URL, an unreachable server, something that is
not a Prometheus, refused credentials, a query that times out or no targets at all is one line and
exit 2. Once running, a failed poll leaves the rows, marked stale with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from perftui.fleet.prometheus_api import PrometheusApi, PrometheusError, authorization
from perftui.fleet.prometheus_monitor import PrometheusMonitor
from perftui.fleet.rows import host_row
from perftui.fleet.state import UP, HostState


def _error(msg: str) -> int:
    print(f"perftui: error: {msg}", file=sys.stderr)
    return 2


def run_prometheus(args: argparse.Namespace, interval: float) -> int:
    if args.hosts or args.hosts_file:
        return _error("--prometheus reads the nodes from Prometheus: name no HOST and no --hosts FILE")
    if args.record:
        return _error("--record records ssh streams; with --prometheus the series are in Prometheus already")
    if not (0 < args.query_timeout <= 300):
        return _error("--query-timeout must be more than 0 and at most 300 seconds")
    try:
        auth = authorization(
            bearer_file=args.bearer_token_file,
            bearer_env=args.bearer_token_env,
            basic_file=args.basic_auth_file,
        )
        api = PrometheusApi(args.prometheus, timeout=args.query_timeout, auth=auth)
    except PrometheusError as exc:
        return _error(str(exc))
    monitor = PrometheusMonitor(api, selector=args.selector, interval=interval)
    monitor.poll()
    if monitor.error is not None:
        return _error(monitor.error)
    if args.json:
        now = time.monotonic()
        ok = True
        for st in monitor.states.values():
            row = host_row(st, now).as_dict()
            row["host_facts"] = st.facts
            ok &= st.status == UP
            sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
        return 0 if ok else 1
    from perftui.ui.fleet.app import FleetApp

    def take(on_change: Callable[[HostState], None]) -> PrometheusMonitor:
        monitor.on_change = on_change
        return monitor

    FleetApp(take, sort=args.sort, refresh_s=max(1.0, interval)).run()
    return 0
