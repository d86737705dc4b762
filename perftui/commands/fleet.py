"""`perftui fleet HOST…`: many hosts over the user's OpenSSH, one row and verdict per host.

Each host runs `perftui stream` through `ssh -o BatchMode=yes …` (see `perftui.fleet.hosts`).
`--prometheus URL` reads the nodes from a Prometheus server's HTTP API instead (see
`perftui.fleet.prometheus_monitor`): no ssh, nothing on the nodes but their exporters.
`--json` prints one object per host from its first full tick (or its error) and exits; otherwise
the fleet screen (Textual, imported only here) shows them live.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from perftui.core.limits import MAX_INTERVAL
from perftui.fleet.hosts import HostError, SshOptions, check_hosts, read_hosts_file
from perftui.fleet.monitor import FleetMonitor
from perftui.fleet.rows import SORT_KEYS, host_row
from perftui.fleet.state import BAD, CONNECTING, DOWN, UP

MIN_FLEET_INTERVAL = 0.2
SSH_INTERVAL = 2.0
PROMETHEUS_INTERVAL = 5.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("hosts", nargs="*", metavar="HOST", help="ssh destinations (ssh_config aliases work)")
    p.add_argument("--hosts", dest="hosts_file", metavar="FILE", help="one ssh destination per line")
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="S",
        help="seconds between updates (default 2; 5 with --prometheus)",
    )
    p.add_argument(
        "--remote-cmd",
        default="perftui",
        metavar="CMD",
        help="how to run perftui on the hosts (default: perftui)",
    )
    p.add_argument("--ssh", default="ssh", metavar="PROG", help="the ssh client (default: ssh)")
    p.add_argument("-F", "--ssh-config", metavar="FILE", help="ssh config file (ssh -F)")
    p.add_argument(
        "--connect-timeout", type=float, default=10.0, metavar="S", help="ssh ConnectTimeout (default 10)"
    )
    p.add_argument(
        "--control-persist",
        type=float,
        metavar="S",
        help="share connections (ControlMaster=auto, a private ControlPath) kept S seconds",
    )
    p.add_argument("--no-gpu", dest="fleet_no_gpu", action="store_true", help="hosts do not sample GPUs")
    p.add_argument("--record", metavar="DIR", help="record each host's stream as a perftui recording in DIR")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per host (its first full tick or its error), exit 0 if all are up",
    )
    p.add_argument("--sort", choices=SORT_KEYS, default="severity", help="row order (default severity)")
    prom = p.add_argument_group("Prometheus (instead of ssh)")
    prom.add_argument("--prometheus", metavar="URL", help="read the nodes from this Prometheus server's API")
    prom.add_argument("--selector", default="", metavar="SEL", help='narrow the targets, e.g. {job="gpu"}')
    prom.add_argument("--bearer-token-file", metavar="FILE", help="Authorization: Bearer, token from FILE")
    prom.add_argument("--bearer-token-env", metavar="VAR", help="Authorization: Bearer, token from $VAR")
    prom.add_argument("--basic-auth-file", metavar="FILE", help="basic auth, user:password from FILE")
    prom.add_argument(
        "--query-timeout", type=float, default=5.0, metavar="S", help="seconds per query (default 5)"
    )


def _error(msg: str) -> int:
    print(f"perftui: error: {msg}", file=sys.stderr)
    return 2


def _interval(args: argparse.Namespace) -> float:
    if args.interval is not None:
        return float(args.interval)
    return PROMETHEUS_INTERVAL if getattr(args, "prometheus", None) else SSH_INTERVAL


def options(args: argparse.Namespace) -> SshOptions:
    return SshOptions(
        ssh=args.ssh,
        connect_timeout=args.connect_timeout,
        remote_cmd=args.remote_cmd,
        interval=_interval(args),
        no_gpu=bool(args.fleet_no_gpu or getattr(args, "no_gpu", False)),
        ssh_config=args.ssh_config,
        control_persist=args.control_persist,
    )


def _hosts(args: argparse.Namespace) -> list[str]:
    hosts = list(args.hosts)
    if args.hosts_file:
        hosts += read_hosts_file(args.hosts_file)
    if not hosts:
        raise HostError("no hosts: name them, give --hosts FILE, or read them from --prometheus URL")
    return check_hosts(hosts)


async def first_ticks(monitor: FleetMonitor, deadline_s: float) -> list[dict[str, Any]]:
    """Each host's first full tick (or its error), waiting at most `deadline_s`."""
    monitor.start()
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            if all(s.status != CONNECTING for s in monitor.states.values()):
                break
            await asyncio.sleep(0.05)
    finally:
        await monitor.stop()
    now = time.monotonic()
    out = []
    for st in monitor.states.values():
        row = host_row(st, now).as_dict()
        if st.status not in (UP, BAD, DOWN):
            row["status"], row["error"] = DOWN, row["error"] or f"no answer in {deadline_s:.0f} s"
        row["host_facts"] = st.facts
        out.append(row)
    return out


def run(args: argparse.Namespace) -> int:
    interval = _interval(args)
    if not (MIN_FLEET_INTERVAL <= interval <= MAX_INTERVAL):
        return _error(f"--interval must be between {MIN_FLEET_INTERVAL:g} and {MAX_INTERVAL:g} seconds")
    if getattr(args, "prometheus", None):
        from perftui.commands.fleet_prometheus import run_prometheus

        return run_prometheus(args, interval)
    try:
        hosts = _hosts(args)
    except HostError as exc:
        return _error(str(exc))
    if not (0 < args.connect_timeout <= 300):
        return _error("--connect-timeout must be more than 0 and at most 300 seconds")
    record_dir = Path(args.record) if args.record else None
    if record_dir is not None and not record_dir.is_dir():
        return _error(f"--record {record_dir}: not a directory")
    opts = options(args)
    if args.json:
        monitor = FleetMonitor(hosts, opts, record_dir=record_dir, reconnect=False)
        deadline = opts.connect_timeout + 15.0 + 3 * opts.interval
        rows = asyncio.run(first_ticks(monitor, deadline))
        for row in rows:
            sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
        return 0 if all(r["status"] == UP for r in rows) else 1
    from perftui.ui.fleet.app import FleetApp

    app = FleetApp(
        lambda on_change: FleetMonitor(hosts, opts, record_dir=record_dir, on_change=on_change),
        sort=args.sort,
        refresh_s=max(1.0, opts.interval),
    )
    app.run()
    return 0
