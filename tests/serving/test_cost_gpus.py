"""Cost per 1K tokens on the right number of GPUs: --serve-gpus / `[serving] gpus` when given, else
every GPU that NVML sees on this host (fake NVML through the real GPU sampler), the assumption shown."""

from __future__ import annotations

import argparse
import time

import pytest

from perftui.commands.serving_args import add_serving_arguments, serving_options
from perftui.commands.snapshot import collect
from perftui.core.cost import GpuPrice
from perftui.samplers.serving.errors import ServeError
from perftui.samplers.serving_source import ServingOptions, ServingSampler
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import ViewCtx
from perftui.ui.serving_panel import serving_content
from tests.fakes.fake_nvml import make_fake_nvml
from tests.serving.exporters import MetricsHTTPServer, ServerExporter


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_serving_arguments(p)
    return p.parse_args(list(argv))


def _collect(options: ServingOptions, scenario: str | None) -> tuple[MetricStore, str]:
    """Two ticks of the real samplers against an exporter that finishes 20 requests between scrapes."""
    exp = ServerExporter("vllm")
    exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)

    def respond() -> tuple[int, bytes]:
        for _ in range(20):
            exp.observe(ttft=0.05, itl=0.02, e2e=1.0, queue=0.0)
        return 200, exp.body()

    with MetricsHTTPServer(respond) as srv:
        options.urls = [srv.url]
        nvml = make_fake_nvml(scenario, realtime=True) if scenario else None
        store = collect(0.2, gpu=scenario is not None, nvml=nvml, serving=options)
    (sid,) = {k.split(".")[1] for k in store.keys("serve.")}
    return store, sid


def _cost_for(store: MetricStore, sid: str) -> float:
    """How many GPUs the recorded cost per 1K tokens stands for, from the price and the throughput."""
    p = f"serve.{sid}."
    tps, cost = store.latest(p + "gen_tokens_per_s"), store.latest(p + "cost_per_1k_tokens")
    assert tps is not None and tps > 0 and cost is not None
    return cost / (2.5 / 3600 / tps * 1000)


def test_a_local_server_is_costed_on_every_gpu_nvml_sees() -> None:
    store, sid = _collect(serving_options(_args("--serve", "x:1", "--gpu-hour-cost", "2.5")), "8gpu")
    assert _cost_for(store, sid) == pytest.approx(8)  # not 1: an 8-GPU box was under-costed 8x
    assert store.latest(f"serve.{sid}.cost_gpus") == 8
    basis = store.detail(f"serve.{sid}")["cost_basis"]
    assert "8 GPUs" in basis and "NVML" in basis and "--serve-gpus" in basis
    content = serving_content(store, ViewCtx(now=time.time(), window=60, interval=1), sid)
    assert "$/1K tok" in {r.label for r in content.rows}
    assert basis in [t for t, _ in content.notices]  # shown where the cost is shown


def test_serve_gpus_wins_over_what_nvml_sees() -> None:
    opts = serving_options(_args("--serve", "x:1", "--gpu-hour-cost", "2.5", "--serve-gpus", "2"))
    store, sid = _collect(opts, "8gpu")
    assert _cost_for(store, sid) == pytest.approx(2)
    assert "2 GPUs (--serve-gpus)" in store.detail(f"serve.{sid}")["cost_basis"]


def test_the_config_gpus_count_is_named_as_the_source() -> None:
    opts = serving_options(_args("--gpu-hour-cost", "2.5"), {"urls": ["x:1"], "gpus": 4})
    assert opts.gpus == 4 and opts.gpus_from == "[serving] gpus"
    cli = serving_options(_args("--gpu-hour-cost", "2.5", "--serve-gpus", "3"), {"urls": ["x:1"], "gpus": 4})
    assert cli.gpus == 3 and cli.gpus_from == "--serve-gpus"


def test_without_a_gpu_one_is_assumed_and_said() -> None:
    store, sid = _collect(ServingOptions(price=GpuPrice(2.5)), None)
    assert _cost_for(store, sid) == pytest.approx(1)
    assert "assumed" in store.detail(f"serve.{sid}")["cost_basis"]


def test_a_remote_server_gets_no_cost_without_its_gpu_count() -> None:
    remote = ServingSampler("http://10.1.2.3:8000/metrics", 1.0, ServingOptions(price=GpuPrice(2.5)))
    n, basis = remote.cost_gpus()
    assert n == 0 and "remote" in basis and "--serve-gpus" in basis
    given = ServingSampler("10.1.2.3:8000", 1.0, ServingOptions(price=GpuPrice(2.5), gpus=4))
    assert given.cost_gpus()[0] == 4


@pytest.mark.parametrize("value", ["0", "x", "1.5", "-2", "²", "99999999"])
def test_a_bad_serve_gpus_is_one_clear_error(value: str) -> None:
    with pytest.raises(ServeError, match="--serve-gpus"):
        serving_options(_args("--serve", "x:1", "--serve-gpus", value))
