"""Tokens per joule from the GPUs' power (fake NVML through the real GPU sampler) and cost from a price."""

from __future__ import annotations

import pytest

from perftui.commands.snapshot import collect
from perftui.core.cost import GpuPrice
from perftui.samplers.serving_source import ServingOptions
from tests.fakes.fake_nvml import make_fake_nvml
from tests.serving.exporters import MetricsHTTPServer, ServerExporter


def test_tokens_per_joule_uses_all_gpus_power_and_cost_needs_a_price() -> None:
    exp = ServerExporter("vllm")
    for _ in range(10):
        exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
    state = {"n": 0}

    def respond() -> tuple[int, bytes]:
        state["n"] += 1
        for _ in range(20):  # 20 requests × 10 tokens between scrapes
            exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
        return 200, exp.body()

    fake = make_fake_nvml("mixed", realtime=True)
    with MetricsHTTPServer(respond) as srv:
        opts = ServingOptions(urls=[srv.url], price=GpuPrice(2.5), gpus=2)
        store = collect(0.2, gpu=True, nvml=fake, serving=opts)
    (sid,) = {k.split(".")[1] for k in store.keys("serve.")}
    p = f"serve.{sid}."
    tps = store.latest(p + "gen_tokens_per_s")
    watts = sum(
        v for k in store.keys("gpu.") if k.endswith(".power_w") and (v := store.latest(k)) is not None
    )
    assert tps is not None and tps > 0 and watts > 0
    assert store.latest(p + "tokens_per_joule") == pytest.approx(tps / watts, rel=0.05)
    assert store.latest(p + "cost_per_1k_tokens") == pytest.approx(2 * 2.5 / 3600 / tps * 1000)
    detail = store.detail(f"serve.{sid}")
    assert "all GPUs" in detail["power"]


def test_no_price_no_cost() -> None:
    exp = ServerExporter("vllm")
    exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        store = collect(0.1, gpu=False, serving=ServingOptions(urls=[srv.url]))
    assert not [k for k in store.keys("serve.") if "cost" in k or "joule" in k]
