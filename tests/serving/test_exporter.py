"""The serving source against prometheus_client exporters with exact server families, over HTTP."""

from __future__ import annotations

import random

import pytest

from perftui.samplers.serving_source import ServingOptions, ServingSampler
from tests.serving.exporters import MetricsHTTPServer, ServerExporter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def true_quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(q * len(s) + 0.999999) - 1))]


@pytest.mark.parametrize("kind", ["vllm", "vllm-0.8", "sglang", "tgi"])
def test_quantiles_contain_the_truth_within_bucket_bounds(kind: str) -> None:
    exp = ServerExporter(kind)
    rng = random.Random(7)
    itl = [rng.lognormvariate(-3.5, 0.6) for _ in range(400)]
    e2e = [rng.lognormvariate(0.5, 0.5) for _ in range(400)]
    for a, b in zip(itl, e2e, strict=True):
        lat = {"itl": a, "e2e": b}
        if kind != "tgi":
            lat["ttft"] = a * 4
        exp.observe(**lat)
    clock = Clock()
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(slo="chatbot"), clock=clock)
        first = s.sample()
    sid = s.sid
    assert sid is not None and sid.startswith(s.profile.server if s.profile else "?")
    assert (
        f"serve.{sid}.requests_per_s" in first and first[f"serve.{sid}.requests_per_s"] is None
    )  # first tick
    det = s.details()[f"serve.{sid}"]["models"][sid]
    for metric, data in (("itl", itl), ("e2e", e2e)):
        for q, frac in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            est = det["since_start"][metric][q]
            truth = true_quantile(data, frac)
            hi = est["hi"] if est["hi"] is not None else float("inf")
            assert est["lo"] <= truth <= hi, (metric, q, est, truth)
            assert first[f"serve.{sid}.{metric}.{q}_cum_s"] == est["value"]
            assert first[f"serve.{sid}.{metric}.{q}_s"] is None  # no window yet on the first scrape


def test_window_versus_since_start_and_rates() -> None:
    exp = ServerExporter("vllm")
    for _ in range(100):
        exp.observe(ttft=0.03, itl=0.02, e2e=1.2, queue=0.01)  # an old, fast period
    exp.set_gauge("kv_cache", 0.5)
    clock = Clock()
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(), clock=clock)
        s.sample()
        for _ in range(50):
            exp.observe(ttft=0.7, itl=0.02, e2e=3.0, queue=0.6)  # now: slow first tokens
        clock.t += 2.0
        v = s.sample()
    p = f"serve.{s.sid}."
    assert v[p + "requests_per_s"] == pytest.approx(25.0)
    assert v[p + "gen_tokens_per_s"] == pytest.approx(250.0)
    assert v[p + "kv_cache_pct"] == pytest.approx(50.0)
    win, cum = v[p + "ttft.p50_s"], v[p + "ttft.p50_cum_s"]
    assert win is not None and 0.5 <= win <= 0.75  # the window holds only the slow requests
    assert cum is not None and cum <= 0.04  # since start, most requests were fast


def test_counter_reset_gives_no_value_that_tick() -> None:
    exp = ServerExporter("vllm")
    for _ in range(20):
        exp.observe(ttft=0.03, itl=0.02, e2e=1.0, queue=0.01)
    clock = Clock()
    state = {"exp": exp}
    with MetricsHTTPServer(lambda: (200, state["exp"].body())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(), clock=clock)
        s.sample()
        state["exp"] = fresh = ServerExporter("vllm")  # the server restarted
        fresh.observe(ttft=0.03, itl=0.02, e2e=1.0, queue=0.01)
        clock.t += 1.0
        v = s.sample()
        p = f"serve.{s.sid}."
        assert v[p + "requests_per_s"] is None and v[p + "ttft.p99_s"] is None
        fresh.observe(ttft=0.03, itl=0.02, e2e=1.0, queue=0.01)
        clock.t += 1.0
        v = s.sample()
    assert v[p + "requests_per_s"] == pytest.approx(1.0)


def test_several_models_get_their_own_keys_and_the_server_total() -> None:
    exp = ServerExporter("vllm", models=("llama-8b", "qwen/7b"))
    for _ in range(10):
        exp.observe("llama-8b", ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
        exp.observe("qwen/7b", ttft=0.5, itl=0.02, e2e=1.0, queue=0.0)
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(), clock=Clock())
        v = s.sample()
    sid = s.sid
    assert v[f"serve.{sid}-llama-8b.ttft.p50_cum_s"] is not None
    assert v[f"serve.{sid}-qwen_7b.ttft.p50_cum_s"] is not None
    total = v[f"serve.{sid}.ttft.p50_cum_s"]
    assert total is not None and total <= v[f"serve.{sid}-qwen_7b.ttft.p50_cum_s"]  # type: ignore[operator]


def test_budget_share_and_missing_families_are_reported() -> None:
    exp = ServerExporter("sglang")
    for i in range(100):
        exp.observe(ttft=0.15 if i < 90 else 0.9, itl=0.01, e2e=2.0, queue=0.0)
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(slo="chatbot"), clock=Clock())
        v = s.sample()
    p = f"serve.{s.sid}."
    assert v[p + "ttft.budget_s"] == 0.2
    assert v[p + "ttft.over_budget_lo_pct"] == pytest.approx(10.0)
    assert v[p + "ttft.over_budget_hi_pct"] == pytest.approx(10.0)
    d = s.details()[f"serve.{s.sid}"]
    assert d["server"] == "sglang" and "P99 time to first token < 200 ms" in d["budgets"][0]
    assert "prompt_tokens" not in d["missing"]  # not expected from SGLang
    assert d["missing"] == ["running", "waiting", "kv_cache"]  # gauges never set: listed as missing
