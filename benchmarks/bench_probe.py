"""How fast the probe's client is, and how much of each latency it measures is its own overhead.

A minimal keep-alive HTTP server (asyncio protocol, no framework) runs in a child process pinned
to one CPU; the probe runs in this process pinned to another, open loop at constant arrivals.
The server stamps each response with `time.perf_counter()` at receipt and just before sending
(CLOCK_MONOTONIC: the same clock in both processes). Per request:
- send overhead: scheduled time → the request's headers written to the socket (aiohttp's
  `on_request_headers_sent`), i.e. the client's lateness plus building the request;
- receive overhead: the server's send stamp → the probe's end timestamp (the loopback, the event
  loop waking up, aiohttp parsing the response), an upper bound of the client's own share;
- client CPU: this process's CPU seconds over the run's wall time (% of one core).
The target (issue 18): ≥ 1,000 requests/s from one core with both overheads ≤ 1 ms at P99.

    .venv/bin/python benchmarks/bench_probe.py [--rates 500,1000,1500] [--seconds 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from perftui.probe.client import Load, Prober, Target
from perftui.probe.results import RequestResult

_STAMPS: contextvars.ContextVar[dict[str, float]] = contextvars.ContextVar("stamps")


# -- the server (child process) ----------------------------------------------------------------
class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t: Any = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        recv = time.perf_counter()
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            stamp = f"X-Recv: {recv!r}\r\nX-Send: {time.perf_counter()!r}\r\n".encode()
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + stamp + b"\r\nok")


def _serve(cpu: int | None, port_out: Any) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Http, "127.0.0.1", 0, backlog=1024)
        port_out.put(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the client (this process) -----------------------------------------------------------------
class _TimedProber(Prober):
    """The probe's own request path, with the server's stamps and the send time kept per request."""

    stamps: list[tuple[RequestResult, dict[str, float]]]

    async def _plain(self, due: float) -> RequestResult:
        st: dict[str, float] = {}
        _STAMPS.set(st)
        r = await super()._plain(due)
        self.stamps.append((r, st))
        return r


def _tracing() -> aiohttp.TraceConfig:
    tc = aiohttp.TraceConfig()

    async def headers_sent(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        _STAMPS.get()["left"] = time.perf_counter()

    async def request_end(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        h = params.response.headers
        _STAMPS.get().update(recv=float(h["X-Recv"]), send=float(h["X-Send"]))

    tc.on_request_headers_sent.append(headers_sent)
    tc.on_request_end.append(request_end)
    return tc


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_rate(port: int, rate: float, seconds: float, warmup: float) -> dict[str, Any]:
    load = Load(rate=rate, arrivals="constant", duration=seconds, warmup=warmup, timeout=10)
    prober = _TimedProber(Target(f"http://127.0.0.1:{port}/"), load, trace_configs=[_tracing()])
    prober.stamps = []
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    info = asyncio.run(prober.run())
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    measured = [(r, st) for r, st in prober.stamps if not r.warmup and r.ok and "send" in st]
    send = [st["left"] - r.scheduled for r, st in measured]
    recv = [r.ended - st["send"] for r, st in measured]
    lat = [r.latency for r, _ in measured]
    done = [r for r, _ in prober.stamps if not r.warmup]
    span = max((r.ended for r in done), default=info.end) - info.measure_start
    return {
        "offered_rps": rate,
        "achieved_rps": len(done) / span if span > 0 else 0.0,
        "requests": len(done),
        "errors": sum(1 for r in done if not r.ok),
        "send_overhead_p50_ms": _p(send, 50) * 1e3,
        "send_overhead_p99_ms": _p(send, 99) * 1e3,
        "recv_overhead_p50_ms": _p(recv, 50) * 1e3,
        "recv_overhead_p99_ms": _p(recv, 99) * 1e3,
        "latency_p50_ms": _p(lat, 50) * 1e3,
        "latency_p99_ms": _p(lat, 99) * 1e3,
        "client_cpu_pct": 100.0 * cpu / wall,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rates", default="500,1000,1500")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0))
    client_cpu, server_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    q: Any = mp.get_context("spawn").Queue()
    server = mp.get_context("spawn").Process(target=_serve, args=(server_cpu, q), daemon=True)
    server.start()
    try:
        port = int(q.get(timeout=30))
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        rows = [run_rate(port, float(r), args.seconds, args.warmup) for r in args.rates.split(",")]
    finally:
        server.terminate()
        server.join(5)
    if args.json:
        print(json.dumps({"cpus": len(cpus), "load1": os.getloadavg()[0], "rows": rows}, indent=2))
        return 0
    print(f"client on CPU {client_cpu}, server on CPU {server_cpu}; load average {os.getloadavg()[0]:.2f}")
    cols = [
        ("offered", "offered_rps", "{:.0f}"),
        ("achieved", "achieved_rps", "{:.0f}"),
        ("errors", "errors", "{}"),
        ("send P50/P99 ms", ("send_overhead_p50_ms", "send_overhead_p99_ms"), "{:.3f}/{:.3f}"),
        ("recv P50/P99 ms", ("recv_overhead_p50_ms", "recv_overhead_p99_ms"), "{:.3f}/{:.3f}"),
        ("latency P50/P99 ms", ("latency_p50_ms", "latency_p99_ms"), "{:.3f}/{:.3f}"),
        ("client CPU %", "client_cpu_pct", "{:.0f}"),
    ]
    print("  ".join(f"{c[0]:>18}" for c in cols))
    for row in rows:
        cells = []
        for _, key, fmt in cols:
            vals = [row[k] for k in key] if isinstance(key, tuple) else [row[key]]
            cells.append(f"{fmt.format(*vals):>18}")
        print("  ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
