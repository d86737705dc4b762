"""The dashboard's cost with a serving panel, beside the plain dashboard and a bare Textual app.

A loopback prometheus_client exporter serves vLLM-style series (request latency, TTFT, ITL and e2e
histograms, token counters, KV-cache and queue gauges) whose values move every 0.2 s; perftui runs
with `--serve` on it. The three tools alternate in each round (the run_all.py session: a detached
tmux, CPU % of a core over the steady span, RSS), medians over the rounds. The process list is on in
both perftui rows (it is the pane with nothing attached), so the plain row is issue 20's figure.

    .venv/bin/python benchmarks/bench_dashboard_serving.py [--rounds 3] [--duration 30] [--size 200x50]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from monitors.session import run_session
from monitors.tools import bare_textual, perftui
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def serve_vllm(port: int, stop: threading.Event) -> None:
    """vLLM's metric names with moving values (the serving source recognises the server by them)."""
    reg = CollectorRegistry()
    labels = ["model_name"]
    ttft = Histogram("vllm:time_to_first_token_seconds", "t", labels, buckets=BUCKETS, registry=reg)
    itl = Histogram("vllm:inter_token_latency_seconds", "t", labels, buckets=BUCKETS, registry=reg)
    e2e = Histogram("vllm:e2e_request_latency_seconds", "t", labels, buckets=BUCKETS, registry=reg)
    queue = Histogram("vllm:request_queue_time_seconds", "t", labels, buckets=BUCKETS, registry=reg)
    gen = Counter("vllm:generation_tokens", "t", labels, registry=reg)
    prompt = Counter("vllm:prompt_tokens", "t", labels, registry=reg)
    done = Counter("vllm:request_success", "t", [*labels, "finished_reason"], registry=reg)
    kv = Gauge("vllm:kv_cache_usage_perc", "t", labels, registry=reg)
    running = Gauge("vllm:num_requests_running", "t", labels, registry=reg)
    waiting = Gauge("vllm:num_requests_waiting", "t", labels, registry=reg)
    start_http_server(port, addr="127.0.0.1", registry=reg)
    rng = random.Random(1)
    m = "bench-model"
    while not stop.wait(0.2):
        for _ in range(4):
            ttft.labels(m).observe(rng.lognormvariate(-2.5, 0.5))
            e2e.labels(m).observe(rng.lognormvariate(0.0, 0.4))
            queue.labels(m).observe(rng.expovariate(50))
            for _ in range(16):
                itl.labels(m).observe(rng.lognormvariate(-4.0, 0.3))
            gen.labels(m).inc(128)
            prompt.labels(m).inc(512)
            done.labels(m, "stop").inc()
        kv.labels(m).set(rng.uniform(0.3, 0.6))
        running.labels(m).set(rng.randint(4, 12))
        waiting.labels(m).set(rng.randint(0, 3))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--size", default="200x50")
    ap.add_argument("--port", type=int, default=18931)
    ap.add_argument("--out", type=Path, default=None, help="write the medians as JSON here")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    stop = threading.Event()
    threading.Thread(target=serve_vllm, args=(args.port, stop), daemon=True).start()
    time.sleep(0.5)
    plain = perftui(1.0)
    serving = replace(
        plain,
        name="perftui --serve",
        argv=(*plain.argv, "--serve", f"127.0.0.1:{args.port}"),
        frame_markers=(*plain.frame_markers, "TTFT"),
    )
    tools = [plain, serving, bare_textual()]
    runs: dict[str, list[tuple[float | None, float | None]]] = {t.name: [] for t in tools}
    for r in range(args.rounds):
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        for tool in order:
            res = run_session(tool, w, h, duration=args.duration, warmup=args.warmup, presses=0)
            runs[tool.name].append((res.cpu_pct, res.rss_bytes))
            cpu = f"{res.cpu_pct:.2f} %" if res.cpu_pct is not None else f"n/a ({res.error})"
            print(f"round {r + 1}: {tool.name}: CPU {cpu}", flush=True)
    stop.set()
    out = {"size": args.size, "rounds": args.rounds, "duration_s": args.duration, "tools": {}}
    for name, vals in runs.items():
        cpus = [c for c, _ in vals if c is not None]
        rss = [m for _, m in vals if m is not None]
        out["tools"][name] = {
            "cpu_pct_median": statistics.median(cpus) if cpus else None,
            "cpu_pct_all": cpus,
            "rss_mb_median": statistics.median(rss) / 1e6 if rss else None,
        }
    text = json.dumps(out, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
