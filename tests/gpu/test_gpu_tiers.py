"""GPM tier, its fallbacks, and GPUs lost mid-run."""

from __future__ import annotations

import pytest

from tests.fakes.fake_nvml import (
    NVML_GPM_METRIC_FP64_UTIL,
    NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC,
    GpuSpec,
    Scenario,
)
from tests.gpu.conftest import MakeFake, run_ticks, sampler_for

MIB = 1024 * 1024


def test_h100_gpm_metrics_from_consecutive_ticks(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("h100")
    s = sampler_for(fake)
    first, second = run_ticks(s, fake, 2)
    assert not any(k.endswith(("sm_active", "dram_bw_util")) for k in first)  # needs two samples
    assert second["gpu.0.sm_active"] == 85.0 and second["gpu.0.sm_occupancy"] == 45.0
    assert second["gpu.0.tensor_active"] == 60.0 and second["gpu.0.dram_bw_util"] == 35.0
    assert (second["gpu.0.fp16_active"], second["gpu.0.fp32_active"], second["gpu.0.fp64_active"]) == (
        2.0,
        10.0,
        0.0,
    )
    assert second["gpu.0.gpm_pcie_tx_bytes_per_s"] == 4000 * MIB  # MiB/s -> bytes/s
    assert second["gpu.0.gpm_nvlink_tx_bytes_per_s"] == 600 * MIB
    d = s.details()
    assert d["gpu.0.tier"] == "gpm" and "sm_active" in d["gpu.0.gpm_metrics"]


def test_gpm_buffers_allocated_once_reused_and_freed(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("8gpu")
    s = sampler_for(fake)
    run_ticks(s, fake, 20)
    assert fake.gpm_alloc == 16  # two per GPU, whatever the number of ticks
    assert fake.calls["nvmlGpmSampleGet"] == 8 * 20
    assert fake.calls["nvmlGpmMetricsGet"] == 8 * 19
    s.close()
    assert fake.gpm_freed == 16
    s.close()  # a second close frees nothing twice
    assert fake.gpm_freed == 16


def test_gpm_skips_ticks_closer_than_100ms(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("h100", tick_seconds=0.06)
    s = sampler_for(fake)
    ticks = run_ticks(s, fake, 7)  # t = 0, .06, .12, .18, .24, .30, .36
    have = [("gpu.0.sm_active" in t) for t in ticks]
    # samples at t=0, .12, .24, .36 (each >= 0.1 s after the previous one); metrics from the 2nd on
    assert have == [False, False, True, False, True, False, True]
    assert fake.calls["nvmlGpmSampleGet"] == 4
    # NVML basics are still sampled every tick
    assert all("gpu.0.util" in t for t in ticks)


def test_a100_is_nvml_tier_pre_hopper(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("a100")
    s = sampler_for(fake)
    v = run_ticks(s, fake, 3)[-1]
    assert s.details()["gpu.0.tier"] == "nvml"
    assert s.details()["gpu.0.tier_reason"] == "GPM not supported on this GPU (pre-Hopper)"
    assert "gpu.0.sm_active" not in v and fake.gpm_alloc == 0


def test_gpm_metric_not_supported_is_dropped_from_the_request(fake_nvml: MakeFake) -> None:
    spec = GpuSpec(
        unsupported_gpm_metrics={NVML_GPM_METRIC_FP64_UTIL, NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC}
    )
    fake = fake_nvml(Scenario(gpus=[spec]))
    s = sampler_for(fake)
    ticks = run_ticks(s, fake, 4)
    assert "gpu.0.fp64_active" not in ticks[-1] and ticks[-1]["gpu.0.sm_active"] == 85.0
    metrics = s.details()["gpu.0.gpm_metrics"]
    assert "fp64_active" not in metrics and "gpm_nvlink_tx_bytes_per_s" not in metrics
    assert s.details()["gpu.0.tier"] == "gpm"


def test_gpm_sampling_refused_falls_back_to_nvml_tier(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec(no_permission={"nvmlGpmSampleGet"})]))
    s = sampler_for(fake)
    ticks = run_ticks(s, fake, 5)
    assert s.details()["gpu.0.tier"] == "nvml"
    assert "refused" in s.details()["gpu.0.tier_reason"]
    assert fake.calls["nvmlGpmSampleGet"] == 1
    assert fake.gpm_freed == fake.gpm_alloc == 2
    assert ticks[-1]["gpu.0.util"] is not None


def test_gpu_lost_mid_run_others_keep_sampling(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("lost")  # GPU 1 lost from tick 3
    s = sampler_for(fake)
    ticks = run_ticks(s, fake, 6)
    assert ticks[2]["gpu.1.sm_active"] == 85.0
    for t in ticks[3:]:
        assert not any(k.startswith("gpu.1.") for k in t)
        assert t["gpu.0.sm_active"] == 85.0 and t["gpu.0.power_w"] == 350.0
    d = s.details()
    assert d["gpu.1.tier"] == "lost" and "lost" in d["gpu.1.tier_reason"]
    assert "gpu.1.gpm_metrics" not in d and d["gpu.0.tier"] == "gpm"
    lost_calls = fake.calls["nvmlDeviceGetPowerUsage"]
    run_ticks(s, fake, 3)
    assert fake.calls["nvmlDeviceGetPowerUsage"] == lost_calls + 3  # only GPU 0 asked


def test_gpu_lost_before_start(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(
        Scenario(gpus=[GpuSpec(lost_at_tick=0), GpuSpec(name="NVIDIA A100-SXM4-80GB", gpm=False, arch=7)])
    )
    s = sampler_for(fake)
    assert s.availability().available
    v = run_ticks(s, fake, 2)[-1]
    assert s.details()["gpu.0.tier"] == "lost" and s.details()["gpu.1.tier"] == "nvml"
    assert "gpu.0.info" not in s.details() and s.details()["gpu.1.info"]["architecture"] == "Ampere"
    assert "gpu.1.util" in v and not any(k.startswith("gpu.0.") for k in v)


@pytest.mark.parametrize("scenario", ["h100", "a100", "geforce", "8gpu", "lost", "energy_wrap", "mixed"])
def test_every_gpu_has_a_tier_and_reason(fake_nvml: MakeFake, scenario: str) -> None:
    fake = fake_nvml(scenario)
    s = sampler_for(fake)
    run_ticks(s, fake, 5)
    d = s.details()
    for i in range(d["gpu.count"]):
        assert d[f"gpu.{i}.tier"] in ("gpm", "nvml", "lost")
        assert d[f"gpu.{i}.tier_reason"]
    s.close()
