"""`perftui stream --serve URL`: a host's serving P99 reaches the fleet row over a real stream.

A real `perftui stream` process scrapes a real prometheus_client exporter on loopback (vLLM's
families and buckets, tests/serving/exporters.py); a FleetMonitor reads its lines as it reads a
remote host's, and the row's P99 column shows the server's end-to-end P99 within its bucket.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from perftui.fleet.hosts import SshOptions
from perftui.fleet.monitor import FleetMonitor
from perftui.fleet.rows import host_row
from perftui.fleet.state import UP, HostState
from tests.serving.exporters import MetricsHTTPServer, ServerExporter

STREAM = [sys.executable, "-m", "perftui", "stream", "--no-gpu", "--interval", "0.3"]


async def _until(cond: Callable[[], object], timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return bool(cond())


def _p99(state: HostState) -> float | None:
    return host_row(state, time.monotonic()).p99_s


async def test_serving_p99_reaches_the_fleet_row_over_a_real_stream() -> None:
    exp = ServerExporter("vllm")
    for _ in range(200):
        exp.observe(ttft=0.05, itl=0.02, e2e=0.4, queue=0.01)  # before the stream started
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        p = f"serve.vllm-{urlsplit(srv.url).port}."
        argv = [*STREAM, "--serve", srv.url, "--slo", "chatbot"]
        mon = FleetMonitor(["local"], SshOptions(interval=0.3), argv_for=lambda h: argv)
        mon.start()
        try:
            st = mon.states["local"]

            def since_start() -> float | None:
                return st.last.value(p + "e2e.p99_cum_s") if st.last is not None else None

            assert await _until(lambda: st.status == UP and since_start() is not None), (st.status, st.error)
            tick = st.last
            assert tick is not None
            first = since_start()  # the requests before the stream: since start, P99 in (0.3, 0.5]
            assert first is not None and 0.3 < first <= 0.5
            ttft = tick.value(p + "ttft.p99_cum_s")
            assert ttft is not None and 0.04 < ttft <= 0.06  # each P99 key travels, within its bucket
            assert tick.value(p + "ttft.budget_s") == 0.2  # --slo chatbot went with --serve
            assert tick.sources[f"serving:{srv.url}"] == (True, None)
            assert _p99(st) is None  # no request inside the window yet: the row says so, not a guess
            for _ in range(200):  # slower requests while it runs: the window's P99 is in (1, 1.5]
                exp.observe(ttft=0.05, itl=0.02, e2e=1.2, queue=0.01)
            assert await _until(lambda: _p99(st) is not None), (st.status, st.error)
            row = host_row(st, time.monotonic())
            assert row.p99_s is not None and 1.0 < row.p99_s <= 1.5
            assert row.status == UP and row.cpu is not None
        finally:
            await mon.stop()


def _stream(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STREAM, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def test_stream_refuses_a_bad_serve_value_in_one_line() -> None:
    for args, word in (
        (["--serve", "ftp://127.0.0.1:1/metrics"], "--serve"),
        (["--serve", "127.0.0.1:1", "--slo", "nonsense"], "nonsense"),
        (["--serve", "127.0.0.1:1", "--serve-gpus", "0"], "--serve-gpus"),
    ):
        r = _stream(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and word in r.stderr and r.stdout == ""
