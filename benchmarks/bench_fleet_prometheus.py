"""The Prometheus-fed fleet view over 100 nodes at a 5 s refresh: perftui's CPU and queries per poll.

A real Prometheus (Debian's package) on loopback scrapes, every 5 s, 2 x N static targets served by
one small loopback HTTP server: per node a dcgm-exporter body (the 2-GPU fixture under its own
`Hostname`) and a node_exporter body (captured once from the real `prometheus-node-exporter` with
the cpu, meminfo, loadavg, uname, pressure, diskstats and netdev collectors, under its own
`nodename`; its counters advance with time so rates are not zero). Each target has its own
`instance` label (`node-007:9400`, `node-007:9100`), so Prometheus holds N distinct nodes.

perftui's side runs in a child process (so the scrape server and Prometheus are not counted): the
fleet command's `PrometheusMonitor` polling on its own asyncio loop at the given refresh, exactly
as under the fleet screen, for --duration seconds. Reported: CPU % of one core of that process
(user + system over the run, every thread), polls, and HTTP queries per poll (not noisy on a
shared machine). `--root DIR` runs the child against another checkout (e.g. main, for "before").
`--screen` then runs the real `perftui fleet --prometheus` in a 200x50 tmux and reports its CPU, the
screen drawing included.

    .venv/bin/python benchmarks/bench_fleet_prometheus.py [--nodes 100] [--duration 30] [--root D] [--screen]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "dcgm" / "dcgm-exporter-4.2.3-4.1.3-h100x2.txt"
NODE_COLLECTORS = ("cpu", "meminfo", "loadavg", "uname", "pressure", "diskstats", "netdev")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return bytes(r.read())


def _capture_node_exporter(binary: str) -> str:
    """One body from the real node_exporter (its own go_/process_ series left out)."""
    port = _free_port()
    collectors = [f"--collector.{c}" for c in NODE_COLLECTORS]
    proc = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults", *collectors],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                body = _get(f"http://127.0.0.1:{port}/metrics").decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(10)
    keep = [ln for ln in body.splitlines() if not re.match(r"^(# \w+ )?(go_|process_|promhttp_)", ln)]
    return "\n".join(keep) + "\n"


class NodeBody:
    """A node_exporter body whose `_total` counters grow at a steady, per-series rate."""

    def __init__(self, text: str, index: int) -> None:
        self.parts: list[str | tuple[str, float, float]] = []
        for n, line in enumerate(text.splitlines()):
            name, _, value = line.rpartition(" ")
            if not line.startswith("#") and name.split("{")[0].endswith("_total"):
                try:
                    base = float(value)
                except ValueError:
                    self.parts.append(line)
                    continue
                self.parts.append((name, base, ((n * 7 + index * 13) % 50) / 100.0))
            else:
                self.parts.append(line)

    def render(self, elapsed: float) -> bytes:
        out = [p if isinstance(p, str) else f"{p[0]} {p[1] + p[2] * elapsed:.3f}" for p in self.parts]
        return ("\n".join(out) + "\n").encode()


def _scrape_server(n: int, node_text: str) -> http.server.ThreadingHTTPServer:
    dcgm = FIXTURE.read_bytes()
    dcgm_bodies = [dcgm.replace(b"gpu-node-01", f"node-{i:03d}".encode()) for i in range(n)]
    node_bodies = [
        NodeBody(re.sub(r'nodename="[^"]*"', f'nodename="node-{i:03d}"', node_text), i) for i in range(n)
    ]
    t0 = time.monotonic()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            i = int(q["node"][0])
            body = dcgm_bodies[i] if q["kind"][0] == "dcgm" else node_bodies[i].render(time.monotonic() - t0)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
    return srv


def _config(n: int, server_port: int, scrape_s: float) -> str:
    """One job per exporter kind; each target names its own `instance` (and its body by params)."""
    out = [f"global:\n  scrape_interval: {scrape_s:g}s\n  scrape_timeout: {min(scrape_s, 4):g}s\n"]
    out.append("scrape_configs:\n")
    for job, kind, port in (("dcgm", "dcgm", 9400), ("node", "node", 9100)):
        out.append(f"  - job_name: {job}\n    static_configs:\n")
        for i in range(n):
            out.append(
                f"      - targets: ['127.0.0.1:{server_port}']\n"
                f"        labels: {{instance: 'node-{i:03d}:{port}', __param_kind: '{kind}',"
                f" __param_node: '{i}'}}\n"
            )
    return "".join(out)


def _query(prom: str, promql: str) -> list[dict[str, Any]]:
    doc = json.loads(_get(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": promql})))
    return list(doc["data"]["result"])


def _child(url: str, root: str, duration: float, interval: float, profile: bool) -> None:
    """perftui's side: the fleet command's monitor, polling for `duration` s; one JSON line out.

    As `perftui fleet --prometheus` does, one poll runs first (before the screen; imports, first
    verdicts) and is reported apart; then the monitor's own loop runs and each poll's CPU is the
    process's over that poll (between polls the process is idle)."""
    sys.path.insert(0, root)
    import asyncio
    import cProfile
    import pstats

    from perftui.fleet import prometheus_api
    from perftui.fleet.prometheus_monitor import PrometheusMonitor

    counted = {"queries": 0}
    lock = threading.Lock()
    real_get = prometheus_api.PrometheusApi._get

    def counting_get(self: Any, path: str, params: dict[str, str]) -> Any:
        with lock:
            counted["queries"] += 1
        return real_get(self, path, params)

    prometheus_api.PrometheusApi._get = counting_get  # type: ignore[method-assign]
    mon = PrometheusMonitor(prometheus_api.PrometheusApi(url, timeout=60), interval=interval)

    def cpu_now() -> float:
        t = os.times()
        return t.user + t.system

    c = cpu_now()
    mon.poll()
    first_poll = cpu_now() - c
    per_poll: list[float] = []
    real_poll = mon.poll

    def timed_poll() -> None:
        c = cpu_now()
        if prof is not None:  # the poll's own thread (its queries' threads are not profiled)
            prof.enable()
        real_poll()
        if prof is not None:
            prof.disable()
        per_poll.append(cpu_now() - c)

    mon.poll = timed_poll  # type: ignore[method-assign]
    prof = cProfile.Profile() if profile else None
    counted["queries"] = 0
    # the loop's first poll fetches the engine's windows again, so a 30 s run is one whole cycle
    # (one window batch every 30 s, a rows-only poll every 5 s) and not a lucky stretch without one
    mon._engine_at = None

    async def run() -> None:
        mon.start()
        await asyncio.sleep(duration)
        await mon.stop()

    c0, w0 = os.times(), time.monotonic()
    asyncio.run(run())
    if prof is not None:
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    c1, wall = os.times(), time.monotonic() - w0
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    verdicts = [st.verdict.verdict for st in mon.states.values() if st.verdict is not None]
    print(
        json.dumps(
            {
                "cpu_s": cpu,
                "wall_s": wall,
                "polls": len(per_poll),
                "first_poll_cpu_s": first_poll,
                "poll_cpu_s": per_poll,
                "queries": counted["queries"],
                "nodes": len(mon.states),
                "verdicts": len(verdicts),
                "error": mon.error,
                "root": root,
            }
        )
    )


def _screen(prom: str, nodes: int, interval: float, duration: float, warmup: float) -> None:
    """The real `perftui fleet --prometheus` with its screen, in a 200x50 tmux: its process's CPU."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from monitors.proc import cpu_seconds
    from monitors.tmux import TmuxSession

    session = TmuxSession(200, 50)
    session.start(f"exec {sys.executable} -m perftui fleet --prometheus {prom} --interval {interval:g}")
    try:
        pid = session.pane_pid()
        time.sleep(warmup)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(duration)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        top = [ln for ln in session.capture().splitlines() if ln.strip()][:3]
        session.send("q")
        time.sleep(1.0)
    finally:
        session.kill()
    print(
        f"the fleet screen (200x50, real perftui fleet --prometheus), {nodes} nodes, refresh {interval:g} s, "
        f"{t1 - t0:.0f} s after {warmup:g} s: {100 * (c1 - c0) / (t1 - t0):.2f} % of a core\n"
        + "\n".join(f"  | {ln.rstrip()[:150]}" for ln in top)
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of polling per run (<= 30)")
    ap.add_argument("--interval", type=float, default=5.0, help="the fleet view's refresh")
    ap.add_argument("--warmup", type=float, default=20.0, help="seconds of scrapes before measuring")
    ap.add_argument("--root", action="append", help="checkout(s) to measure (default: this one)")
    ap.add_argument("--profile", action="store_true", help="the child's top functions, on stderr")
    ap.add_argument("--screen", action="store_true", help="also the real fleet screen in tmux")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, (args.root or [str(ROOT)])[0], args.duration, args.interval, args.profile)
        return 0
    prometheus = shutil.which("prometheus")
    node_exporter = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if prometheus is None or node_exporter is None:
        print("fleet via Prometheus: skipped (needs prometheus and prometheus-node-exporter)")
        return 0
    srv = _scrape_server(args.nodes, _capture_node_exporter(node_exporter))
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text(_config(args.nodes, srv.server_address[1], 5.0))
        prom = f"http://127.0.0.1:{_free_port()}"
        proc = subprocess.Popen(
            [
                *(prometheus, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data"),
                *(f"--web.listen-address={prom[7:]}", "--log.level=warn"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    up = _query(prom, "up == 1")
                    if len(up) == 2 * args.nodes:
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            else:
                print("fleet via Prometheus: the targets did not all come up within 90 s")
                return 1
            time.sleep(args.warmup)
            for root in args.root or [str(ROOT)]:
                cmd = [sys.executable, __file__, "--child", prom, "--root", root]
                cmd += ["--duration", str(args.duration), "--interval", str(args.interval)]
                cmd += ["--profile"] if args.profile else []
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 600)
                if done.returncode != 0 or args.profile:
                    print(done.stderr)
                if done.returncode != 0:
                    return 1
                r = json.loads(done.stdout.strip().splitlines()[-1])
                polls = max(1, r["polls"])
                ms = ", ".join(f"{1e3 * c:.0f}" for c in r["poll_cpu_s"])
                print(
                    f"{r['root']}: {args.nodes} nodes, refresh {args.interval:g} s, {r['wall_s']:.0f} s: "
                    f"{100 * r['cpu_s'] / r['wall_s']:.2f} % of a core, {r['polls']} polls, "
                    f"{r['queries'] / polls:.0f} queries per poll ({r['queries']} in all), "
                    f"{r['nodes']} nodes / {r['verdicts']} verdicts, error: {r['error']}\n"
                    f"  CPU per poll (ms): {ms}; the first poll before the loop: "
                    f"{1e3 * r['first_poll_cpu_s']:.0f} ms"
                )
            if args.screen:
                _screen(prom, args.nodes, args.interval, args.duration, args.warmup)
        finally:
            proc.terminate()
            proc.wait(10)
            srv.shutdown()
            srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
