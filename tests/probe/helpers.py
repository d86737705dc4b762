"""Running the probe's client on its own loop in a test, and a port nothing listens on."""

from __future__ import annotations

import asyncio
import socket

from perftui.probe.client import Load, Prober, RunInfo, Target
from perftui.probe.results import Tally


def probe(target: Target, load: Load) -> tuple[Tally, RunInfo]:
    prober = Prober(target, load)
    info = asyncio.run(prober.run())
    return prober.tally, info


def closed_port() -> int:
    """A loopback port that was free a moment ago (connecting to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
