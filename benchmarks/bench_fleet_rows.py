"""The data side of the Prometheus-fed fleet view over N nodes (see bench_exporter.py --fleet).

N loopback HTTP servers each serve the dcgm-exporter fixture under its own Hostname; a real
Prometheus scrapes them every 5 s; every `every` seconds the fleet source lists the nodes and
fetches their rows. The CPU of those calls is the calling thread's (`time.thread_time`), so the
fixture servers' threads are not counted.
"""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perftui.fleet.prometheus_api import PrometheusApi  # noqa: E402
from perftui.fleet.prometheus_rows import fetch_rows  # noqa: E402
from perftui.fleet.prometheus_source import discover_nodes  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "dcgm" / "dcgm-exporter-4.2.3-4.1.3-h100x2.txt"


def _free_port() -> int:
    """A free loopback port (closed again before Prometheus binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server(body: bytes) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 1.0}, daemon=True).start()
    return srv


def bench_fleet_rows(n: int, refreshes: int, every: float) -> None:
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("fleet rows: skipped (no prometheus binary)")
        return
    base = FIXTURE.read_bytes()
    servers = [_server(base.replace(b"gpu-node-01", f"node-{i:03d}".encode())) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        targets = ", ".join(f"'127.0.0.1:{s.server_address[1]}'" for s in servers)
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 5s\nscrape_configs:\n"
            f"  - job_name: dcgm\n    static_configs:\n      - targets: [{targets}]\n"
        )
        port = _free_port()
        proc = subprocess.Popen(
            [
                *(prometheus, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data"),
                *(f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            api = PrometheusApi(f"http://127.0.0.1:{port}", timeout=10)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if len(discover_nodes(api)) == n and len(api.query("DCGM_FI_DEV_GPU_UTIL")) == 2 * n:
                        break
                except Exception:
                    pass
                time.sleep(0.5)
            cpu = wall = 0.0
            for _ in range(refreshes):
                t0, c0 = time.monotonic(), time.thread_time()
                nodes = discover_nodes(api)
                rows = fetch_rows(api, nodes)
                cpu += time.thread_time() - c0
                assert len(rows) == n and all(r.values for r in rows.values())
                time.sleep(max(0.0, every - (time.monotonic() - t0)))
                wall += time.monotonic() - t0
            print(
                f"fleet rows, {n} nodes refreshed every {every:g} s: {1e3 * cpu / refreshes:.1f} ms CPU per "
                f"refresh, {100 * cpu / wall:.2f} % of a core (the data side; budget for the whole view 2 %)"
            )
        finally:
            proc.terminate()
            proc.wait(10)
            for s in servers:
                s.shutdown()
                s.server_close()
