"""Scrape + parse cost of a large vLLM /metrics body (several models, every histogram family).

Builds a ~300 kB body with prometheus_client (vLLM's exact families and buckets, 8 models × 2 engines,
plus the histograms perftui does not read: prefill/decode/inference time, prompt/generation length),
serves it from a real HTTP server on 127.0.0.1 and times `ServingSampler.sample()` (HTTP GET, the
prefilter, prometheus_client's parser, per-model readings, quantiles) over --runs scrapes.

    .venv/bin/python benchmarks/bench_serving_parse.py [--runs 200] [--models 8]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import Histogram

from perftui.samplers.serving_source import ServingOptions, ServingSampler
from tests.serving.exporters import VLLM_E2E, MetricsHTTPServer, ServerExporter

EXTRA = ("prefill_time", "decode_time", "inference_time")
LENGTHS = tuple(float(x) for e in range(6) for x in (10**e, 2 * 10**e, 5 * 10**e))


def big_body(models: int) -> bytes:
    names = tuple(f"org/model-{i}-8B-Instruct" for i in range(models))
    exp = ServerExporter("vllm", models=names)
    lab = ["model_name", "engine"]
    extra = [
        Histogram(f"vllm:request_{n}_seconds", n, lab, buckets=VLLM_E2E, registry=exp.registry) for n in EXTRA
    ]
    lengths = [
        Histogram(f"vllm:request_{n}_tokens", n, lab, buckets=LENGTHS, registry=exp.registry)
        for n in ("prompt", "generation")
    ]
    rng = random.Random(1)
    for m in names:
        for engine in ("0", "1"):
            for _ in range(20):
                exp.observe(
                    m, ttft=rng.random(), itl=rng.random() / 20, e2e=rng.random() * 5, queue=rng.random()
                )
                for h in (*extra, *lengths):
                    h.labels(model_name=m, engine=engine).observe(rng.random() * 100)
    return exp.body()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--models", type=int, default=8)
    a = ap.parse_args()
    body = big_body(a.models)
    with MetricsHTTPServer(lambda: (200, body)) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(slo="chatbot"))
        s.sample()  # recognise the server once
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            s.sample()
            times.append(time.perf_counter() - t0)
    times.sort()
    print(f"body {len(body) / 1024:.0f} kB, {a.models} models, {a.runs} scrapes")
    med, p95 = statistics.median(times) * 1e3, times[int(0.95 * len(times))] * 1e3
    print(f"scrape+parse median {med:.2f} ms, p95 {p95:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
