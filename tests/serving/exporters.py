"""Test exporters built with prometheus_client: each server's exact families (names, labels, buckets).

`ServerExporter` registers one server generation's metric families in its own registry and observes
a known latency distribution (names, labels and buckets after each server's source; HELP text is a
placeholder: these stand in for servers that cannot run here, they are not captures);
`MetricsHTTPServer` serves any body (or failure mode) on 127.0.0.1 from
a real HTTP server in a thread.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

VLLM_TTFT = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    2.5,
    5,
    7.5,
    10,
    20,
    40,
    80,
    160,
    640,
    2560,
)
VLLM_ITL = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80)
VLLM_E2E = (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680)
SGL_TTFT = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400)
SGL_ITL = (
    0.002,
    0.004,
    0.006,
    0.008,
    0.01,
    0.015,
    0.02,
    0.025,
    0.03,
    0.035,
    0.04,
    0.06,
    0.08,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    1,
    2,
    4,
    6,
    8,
)
SGL_E2E = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400)
SGL_QUEUE = (0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 500, 1000, 3000)
TGI_DURATION = tuple(0.0001 * 1.5**k for k in range(1, 36))


class ServerExporter:
    """One server's families; `observe(ttft=…, itl=…, e2e=…, queue=…)` records one finished request."""

    def __init__(self, kind: str, models: tuple[str, ...] = ("m",)) -> None:
        self.kind = kind
        self.registry = CollectorRegistry()
        self.models = models
        r = self.registry
        self.h: dict[str, Any] = {}
        self.c: dict[str, Any] = {}
        self.g: dict[str, Any] = {}
        if kind.startswith("vllm"):
            lab = ["model_name", "engine"]
            self.h["ttft"] = Histogram(
                "vllm:time_to_first_token_seconds", "ttft", lab, buckets=VLLM_TTFT, registry=r
            )
            itl = (
                "vllm:time_per_output_token_seconds"
                if kind == "vllm-0.8"
                else "vllm:inter_token_latency_seconds"
            )
            self.h["itl"] = Histogram(itl, "itl", lab, buckets=VLLM_ITL, registry=r)
            self.h["e2e"] = Histogram(
                "vllm:e2e_request_latency_seconds", "e2e", lab, buckets=VLLM_E2E, registry=r
            )
            self.h["queue"] = Histogram(
                "vllm:request_queue_time_seconds", "q", lab, buckets=VLLM_E2E, registry=r
            )
            self.c["requests"] = Counter("vllm:request_success", "ok", [*lab, "finished_reason"], registry=r)
            self.c["prompt_tokens"] = Counter("vllm:prompt_tokens", "p", lab, registry=r)
            self.c["gen_tokens"] = Counter("vllm:generation_tokens", "g", lab, registry=r)
            self.c["preemptions"] = Counter("vllm:num_preemptions", "pre", lab, registry=r)
            self.g["running"] = Gauge("vllm:num_requests_running", "run", lab, registry=r)
            self.g["waiting"] = Gauge("vllm:num_requests_waiting", "wait", lab, registry=r)
            kv = "vllm:gpu_cache_usage_perc" if kind == "vllm-0.8" else "vllm:kv_cache_usage_perc"
            self.g["kv_cache"] = Gauge(kv, "kv", lab, registry=r)
        elif kind == "sglang":
            lab = ["model_name"]
            self.h["ttft"] = Histogram(
                "sglang:time_to_first_token_seconds", "t", lab, buckets=SGL_TTFT, registry=r
            )
            self.h["itl"] = Histogram(
                "sglang:inter_token_latency_seconds", "i", lab, buckets=SGL_ITL, registry=r
            )
            self.h["e2e"] = Histogram(
                "sglang:e2e_request_latency_seconds", "e", lab, buckets=SGL_E2E, registry=r
            )
            self.h["queue"] = Histogram("sglang:queue_time_seconds", "q", lab, buckets=SGL_QUEUE, registry=r)
            self.c["requests"] = Counter("sglang:num_requests", "n", lab, registry=r)
            self.c["gen_tokens"] = Counter("sglang:generation_tokens", "g", lab, registry=r)
            self.g["running"] = Gauge("sglang:num_running_reqs", "r", lab, registry=r)
            self.g["waiting"] = Gauge("sglang:num_queue_reqs", "w", lab, registry=r)
            self.g["kv_cache"] = Gauge("sglang:token_usage", "kv", lab, registry=r)
        elif kind == "tgi":
            self.models = ("",)
            self.h["e2e"] = Histogram("tgi_request_duration", "d", buckets=TGI_DURATION, registry=r)
            self.h["itl"] = Histogram(
                "tgi_request_mean_time_per_token_duration", "t", buckets=TGI_DURATION, registry=r
            )
            self.h["queue"] = Histogram("tgi_request_queue_duration", "q", buckets=TGI_DURATION, registry=r)
            self.c["requests"] = Counter("tgi_request_success", "s", registry=r)
            self.g["waiting"] = Gauge("tgi_queue_size", "q", registry=r)
            self.g["running"] = Gauge("tgi_batch_current_size", "b", registry=r)
        else:
            raise ValueError(kind)

    def _labels(self, metric: Any, model: str, extra: dict[str, str] | None = None) -> Any:
        if not model and self.kind == "tgi":
            return metric
        labels = {"model_name": model}
        if self.kind.startswith("vllm"):
            labels["engine"] = "0"
        return metric.labels(**labels, **(extra or {}))

    def observe(self, model: str | None = None, **latencies: float) -> None:
        m = model if model is not None else self.models[0]
        for name, value in latencies.items():
            self._labels(self.h[name], m).observe(value)
        extra = {"finished_reason": "stop"} if self.kind.startswith("vllm") else None
        self._labels(self.c["requests"], m, extra).inc()
        if "gen_tokens" in self.c:
            self._labels(self.c["gen_tokens"], m).inc(10)

    def abort(self, model: str | None = None, n: int = 1) -> None:
        """vLLM: `n` requests finished with finished_reason="abort" (its only failure count)."""
        assert self.kind.startswith("vllm")
        m = model if model is not None else self.models[0]
        self._labels(self.c["requests"], m, {"finished_reason": "abort"}).inc(n)

    def set_gauge(self, name: str, value: float, model: str | None = None) -> None:
        self._labels(self.g[name], model if model is not None else self.models[0]).set(value)

    def body(self) -> bytes:
        return generate_latest(self.registry)


class MetricsHTTPServer:
    """A real HTTP server on 127.0.0.1: `respond()` gives (status, body) for each request."""

    def __init__(self, respond: Callable[[], tuple[int, bytes]], delay_s: float = 0.0, port: int = 0) -> None:
        outer = self
        self.respond = respond
        self.delay_s = delay_s
        self.hits = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                status, body = outer.respond()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout, size cap)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metrics"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MetricsHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
