"""vLLM errors/s from request_success_total's finished_reason (abort, error); TRT-LLM's KV-cache blocks
(nv_trt_llm_kv_cache_block_metrics used/max) as the Triton profile's KV %."""

from __future__ import annotations

from pathlib import Path

import pytest

from perftui.samplers.serving.parse import Reading, generation, parse_body, readings
from perftui.samplers.serving.profiles import PROFILES, detect, wanted_prefixes
from perftui.samplers.serving_source import ServingOptions, ServingSampler
from tests.serving.exporters import MetricsHTTPServer, ServerExporter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "serving"
VLLM = next(p for p in PROFILES if p.server == "vllm")


def _read(body: str, server: str | None = None) -> dict[str | None, Reading]:
    profile = detect(parse_body(body, wanted_prefixes(None)).samples)
    assert profile is not None and (server is None or profile.server == server)
    return readings(profile, parse_body(body, wanted_prefixes(profile)))


def test_vllm_errors_per_s_are_the_aborted_finished_requests() -> None:
    exp = ServerExporter("vllm")
    for _ in range(5):
        exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
    t = iter([100.0, 102.0])
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(), clock=lambda: next(t))
        first = s.sample()
        for _ in range(10):
            exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
        exp.abort(n=4)
        second = s.sample()
    p = f"serve.{s.sid}."
    assert first[p + "errors_per_s"] is None  # a rate needs two scrapes
    assert second[p + "errors_per_s"] == pytest.approx(4 / 2.0)
    assert second[p + "requests_per_s"] == pytest.approx(14 / 2.0)  # every finished request


def test_vllm_fixture_counts_abort_and_not_stop_or_length() -> None:
    total = _read((FIXTURES / "vllm_0.11.txt").read_text(), "vllm")[None]
    assert total.counters["errors"] == 3.0 and total.counters["requests"] == 43.0


def test_a_vllm_counter_without_finished_reason_gives_no_error_figure() -> None:
    body = (
        "# TYPE vllm:request_success_total counter\n"
        'vllm:request_success_total{model_name="m"} 5\n'
        "# TYPE vllm:num_requests_running gauge\n"
        'vllm:num_requests_running{model_name="m"} 1\n'
    )
    total = _read(body, "vllm")[None]
    assert total.counters["requests"] == 5.0 and "errors" not in total.counters


def test_a_vllm_counter_with_only_stop_series_says_zero_errors() -> None:
    body = (
        "# TYPE vllm:request_success_total counter\n"
        'vllm:request_success_total{finished_reason="stop",model_name="a"} 5\n'
        'vllm:request_success_total{finished_reason="abort",model_name="b"} 2\n'
    )
    r = readings(VLLM, parse_body(body, wanted_prefixes(VLLM)))
    assert r["a"].counters["errors"] == 0.0 and r["b"].counters["errors"] == 2.0
    assert r[None].counters["errors"] == 2.0


def test_trtllm_kv_blocks_give_the_triton_profile_its_kv_percent() -> None:
    body = (FIXTURES / "triton_trtllm_24.x.txt").read_text()
    r = _read(body, "triton")
    triton = next(p for p in PROFILES if p.server == "triton")
    assert "TensorRT-LLM" in generation(triton, parse_body(body, wanted_prefixes(triton)))
    assert r[None].gauges["kv_cache"] == pytest.approx(100 * 4680 / 6240)
    assert r["tensorrt_llm"].gauges["kv_cache"] == pytest.approx(75.0)
    assert "kv_cache" not in r["ensemble"].gauges  # the ensemble holds no KV cache of its own
    with MetricsHTTPServer(lambda: (200, body.encode())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions())
        v = s.sample()
    assert v[f"serve.{s.sid}.kv_cache_pct"] == pytest.approx(75.0)
    assert v[f"serve.{s.sid}-tensorrt_llm.kv_cache_pct"] == pytest.approx(75.0)


def test_a_triton_without_trtllm_has_no_kv_figure() -> None:
    r = _read((FIXTURES / "triton_2.x.txt").read_text(), "triton")
    assert "kv_cache" not in r[None].gauges


def test_max_zero_blocks_gives_no_kv_percent() -> None:
    body = (
        "# TYPE nv_trt_llm_kv_cache_block_metrics gauge\n"
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="used",model="t",version="1"} 0\n'
        'nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type="max",model="t",version="1"} 0\n'
        "# TYPE nv_inference_request_success counter\n"
        'nv_inference_request_success{model="t",version="1"} 0\n'
    )
    assert "kv_cache" not in _read(body, "triton")[None].gauges
