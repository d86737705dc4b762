"""The GPU sampler's live gpu.<i>.tflops / flops_util_pct, and a scaling table from the fake 8-GPU box."""

from __future__ import annotations

import pytest

from perftui.efficiency.scaling import run_facts, scaling_table
from perftui.samplers.gpu import GpuSampler
from perftui.store.metric_store import MetricStore
from perftui.store.reader import recording_from_store
from tests.fakes.fake_nvml import FakeNvml, GpuSpec, Scenario, make_fake_nvml

H100_PER_MHZ = 132 * 4096 * 1e6 / 1e12  # dense BF16 TFLOP/s per MHz of SM clock


def _store(scenario: str | Scenario, ticks: int) -> MetricStore:
    fake = make_fake_nvml(scenario, realtime=False) if isinstance(scenario, str) else FakeNvml(scenario)
    sampler = GpuSampler(1.0, fake, clock=fake.now)  # type: ignore[arg-type]
    store = MetricStore(capacity=64)
    for _ in range(ticks):
        store.append(fake.now(), sampler.sample())
        fake.advance()
    for k, v in sampler.details().items():
        store.set_detail(k, v)
    sampler.close()
    return store


def test_h100_sampler_emits_tflops_from_gpm_and_clock() -> None:
    store = _store("h100", 3)
    tensor, clock = store.latest("gpu.0.tensor_active"), store.latest("gpu.0.sm_clock_mhz")
    assert tensor is not None and clock is not None
    fp = [store.latest(f"gpu.0.{p}_active") or 0.0 for p in ("fp16", "fp32", "fp64")]
    want = H100_PER_MHZ * clock * tensor / 100
    want += 132 * clock * 1e6 / 1e12 * (512 * fp[0] + 256 * fp[1] + 128 * fp[2]) / 100
    assert store.latest("gpu.0.tflops") == pytest.approx(want)
    assert store.latest("gpu.0.flops_util_pct") == pytest.approx(100 * want / 989.4)


def test_unknown_model_and_nvml_tier_emit_no_figure() -> None:
    store = _store(Scenario("odd", [GpuSpec(name="NVIDIA Mystery 9000")]), 3)
    assert store.latest("gpu.0.tensor_active") is not None and "gpu.0.tflops" not in store
    assert "gpu.0.tflops" not in _store("a100", 3)  # Ampere: NVML tier, no GPM


def test_scaling_table_from_the_fake_8_gpu_box() -> None:
    eight = recording_from_store(_store("8gpu", 3), meta={"host": "fake"})
    one = recording_from_store(_store("h100", 3), meta={"host": "fake"})
    facts = [
        run_facts(r.path.name + str(i), r.series, r.meta, r.details_at()) for i, r in enumerate((one, eight))
    ]
    table = scaling_table(facts)
    small, big = table.rows
    assert (small.run.gpus, big.run.gpus) == (1, 8)
    assert "achieved TFLOP/s summed over GPUs" in table.metric
    assert big.run.throughput == pytest.approx(8 * small.run.throughput, rel=1e-6)  # type: ignore[operator]
    assert big.efficiency_pct == pytest.approx(100.0)
    assert big.run.nvlink_busy_pct == pytest.approx(100.0)  # the fake's NVLink counters: ~100 GB/s per GPU


def test_snapshot_shows_tflops_or_why_not() -> None:
    from perftui.commands.snapshot import collect, render_text, to_json

    store = collect(0.15, gpu=True, nvml=make_fake_nvml("mixed", realtime=True))  # H100, A100, GeForce
    doc = to_json(store)
    assert doc["metrics"]["gpu.0.tflops"]["unit"] == "TFLOP/s" and doc["metrics"]["gpu.0.tflops"]["value"] > 0
    assert set(doc["no_figure"]) == {"gpu.1.tflops", "gpu.2.tflops"}
    assert "needs GPM counters" in doc["no_figure"]["gpu.1.tflops"]
    text = render_text(store)
    assert "TFLOP/s" in text and "gpu.2.tflops" in text
