"""record → report → compare with a vLLM exporter: the latency table against the budget, cost, P99 deltas."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.cli_run import perftui
from tests.llm.llama_server import free_port
from tests.serving.exporters import MetricsHTTPServer, ServerExporter

pytestmark = pytest.mark.e2e


def _record(tmp_path: Path, name: str, ttft: float, port: int) -> Path:
    exp = ServerExporter("vllm")
    exp.set_gauge("kv_cache", 0.6)
    stop = threading.Event()

    def load() -> None:
        while not stop.wait(0.02):
            exp.observe(ttft=ttft, itl=0.02, e2e=1.2, queue=0.05)

    path = tmp_path / f"{name}.db"
    with MetricsHTTPServer(lambda: (200, exp.body()), port=port) as srv:
        t = threading.Thread(target=load, daemon=True)
        t.start()
        try:
            args = ("record", "--no-gpu", "--duration", "3", "--interval", "0.5", "-o", str(path))
            r = perftui(*args, "--serve", srv.url, "--slo", "chatbot", "--gpu-hour-cost", "2.5")
        finally:
            stop.set()
            t.join(5)
    assert r.returncode == 0, r.stderr
    return path


def test_report_and_compare(tmp_path: Path) -> None:
    port = free_port()  # before and after on the same port: the same server id in both recordings
    slow = _record(tmp_path, "slow", 0.45, port)
    fast = _record(tmp_path, "fast", 0.03, port)
    r = perftui("report", str(slow), "-o", str(tmp_path / "r.md"))
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "r.md").read_text()
    assert "## Serving" in md and "latency (last window, from buckets)" in md
    ttft_row = next(line for line in md.splitlines() if line.startswith("| TTFT"))
    assert "over budget" in ttft_row and "200 ms" in ttft_row
    assert "USD per 1K generated tokens (1 GPU)" in md  # --no-gpu: the one GPU assumed, named
    c = perftui("compare", str(slow), str(fast))
    assert c.returncode == 0, c.stderr
    line = next(x for x in c.stdout.splitlines() if f"serve.vllm-{port}.ttft.p99_s" in x)
    assert "improved" in line
