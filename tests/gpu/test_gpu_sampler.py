"""The GPU sampler over fake NVML scenarios: NVML basics, rates, fallbacks, one failed call per feature."""

from __future__ import annotations

import json

import pytest

from perftui.core.specs import spec_for
from perftui.samplers.gpu import GpuSampler, gpu_samplers
from perftui.samplers.nvml import NO_DRIVER_REASON, NO_GPU_REASON
from tests.fakes.fake_nvml import GiB, GpuSpec, Scenario, _h100_values
from tests.gpu.conftest import MakeFake, run_ticks, sampler_for
from tests.polling import wait_for


def test_factory_returns_one_sampler_named_gpu(fake_nvml: MakeFake) -> None:
    samplers = gpu_samplers(0.5, nvml=fake_nvml("8gpu"))
    assert [s.name for s in samplers] == ["gpu"] and samplers[0].interval == 0.5


@pytest.mark.parametrize(("scenario", "reason"), [("nodriver", NO_DRIVER_REASON), ("none", NO_GPU_REASON)])
def test_unavailable_sources_say_why_and_sample_nothing(
    fake_nvml: MakeFake, scenario: str, reason: str
) -> None:
    fake = fake_nvml(scenario)
    s = sampler_for(fake)
    assert s.availability().reason == reason
    assert s.sample() == {}
    assert dict(s.details()) == {}
    s.close()
    calls_after_init = sum(fake.calls.values())
    s.availability()
    assert sum(fake.calls.values()) == calls_after_init  # the reason is found once


def test_h100_basics_and_si_units(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("h100")
    s = sampler_for(fake, energy_period_s=0)
    assert s.availability().available
    first, second = run_ticks(s, fake, 2)
    # first tick: no rates (never a fake 0)
    for key in ("energy_avg_w", "pcie_tx_bytes_per_s", "nvlink_tx_bytes_per_s", "sm_active"):
        assert first.get(f"gpu.0.{key}") is None
    v = second
    assert v["gpu.0.util"] == pytest.approx(50 + 40 * __import__("math").sin(1.0), abs=1)
    assert v["gpu.0.mem_used_bytes"] == 20 * GiB and v["gpu.0.mem_total_bytes"] == 80 * GiB
    assert v["gpu.0.mem_used_pct"] == pytest.approx(25.0)
    assert v["gpu.0.power_w"] == 350.0 and v["gpu.0.power_limit_w"] == 700.0  # mW -> W
    assert v["gpu.0.energy_avg_w"] == pytest.approx(300.0)  # mJ counter -> W
    # GPM tier: PCIe from GPM (MiB/s), no counter fields (they wrap within a tick at 8 GB/s)
    assert "gpu.0.pcie_tx_bytes_per_s" not in v and v["gpu.0.gpm_pcie_tx_bytes_per_s"] > 0
    # NVLink: all-links scope (1e8 KiB/s), not link 0 (1e7 KiB/s); KiB -> bytes
    assert v["gpu.0.nvlink_tx_bytes_per_s"] == pytest.approx(1e8 * 1024)
    assert v["gpu.0.nvlink_rx_bytes_per_s"] == pytest.approx(5e7 * 1024)
    assert v["gpu.0.temp_c"] == 55.0 and v["gpu.0.fan_pct"] == 40.0
    assert v["gpu.0.sm_clock_mhz"] == 1980.0 and v["gpu.0.mem_clock_mhz"] == 2619.0
    assert v["gpu.0.ecc_corrected"] == 0.0 and v["gpu.0.xid_events"] == 0.0
    for key, value in v.items():
        assert spec_for(key) is not None, f"{key} has no spec"
        assert value is None or isinstance(value, float)


def test_static_facts_and_driver_details(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("h100")
    s = sampler_for(fake)
    run_ticks(s, fake, 1)
    d = dict(s.details())
    assert d["gpu.count"] == 1
    assert d["gpu.driver"] == {"driver": "550.54.15", "nvml": "12.550.54.15", "cuda_driver": "12.4"}
    info = d["gpu.0.info"]
    assert info["name"] == "NVIDIA H100 80GB HBM3" and info["pci_bus_id"] == "00000000:18:00.0"
    assert info["uuid"].startswith("GPU-") and info["architecture"] == "Hopper"
    assert info["memory_total_bytes"] == 80 * GiB and info["power_limit_w"] == 700.0
    assert (info["max_sm_clock_mhz"], info["max_mem_clock_mhz"]) == (1980, 2619)
    assert info["mig_mode"] is False and info["nvlink_count"] == 18
    json.dumps(d)  # everything JSON-serialisable
    name_calls = fake.calls["nvmlDeviceGetName"]
    run_ticks(s, fake, 3)
    assert fake.calls["nvmlDeviceGetName"] == name_calls == 1  # static facts read once


def test_clock_events_decoded_and_throttled(fake_nvml: MakeFake) -> None:
    values = _h100_values()
    values["clock_events"] = lambda t: 0x1 if t < 1 else (0x4 | 0x40)  # idle, then power cap + HW thermal
    fake = fake_nvml(Scenario(gpus=[GpuSpec(values=values)]))
    s = sampler_for(fake)
    idle = run_ticks(s, fake, 1)[0]
    assert idle["gpu.0.throttled"] == 0.0 and s.details()["gpu.0.clock_events"] == ["idle"]
    hot = run_ticks(s, fake, 1)[0]
    assert hot["gpu.0.clock_event_reasons"] == float(0x44) and hot["gpu.0.throttled"] == 1.0
    assert s.details()["gpu.0.clock_events"] == ["power_cap", "hw_thermal"]


def test_energy_counter_wrap_gives_the_true_mean_power(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("energy_wrap")  # the uint64 counter wraps between tick 1 and 2
    s = sampler_for(fake, energy_period_s=0)
    ticks = run_ticks(s, fake, 4)
    assert [t["gpu.0.energy_avg_w"] for t in ticks[1:]] == [pytest.approx(300.0)] * 3


def test_energy_counter_reset_gives_no_value_that_tick(fake_nvml: MakeFake) -> None:
    values = _h100_values()
    values["energy_mj"] = lambda t: 10**9 + round(300_000 * t) if t < 2 else round(300_000 * (t - 2))
    fake = fake_nvml(Scenario(gpus=[GpuSpec(values=values)]))
    ticks = run_ticks(sampler_for(fake, energy_period_s=0), fake, 4)
    assert [t.get("gpu.0.energy_avg_w") for t in ticks] == [
        None,
        pytest.approx(300.0),
        None,
        pytest.approx(300.0),
    ]


def test_energy_is_read_every_5_s_and_still_gives_the_exact_mean(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("h100")
    ticks = run_ticks(sampler_for(fake), fake, 12)  # 1 s ticks
    got = [(n, t["gpu.0.energy_avg_w"]) for n, t in enumerate(ticks) if t.get("gpu.0.energy_avg_w")]
    assert got == [(5, pytest.approx(300.0)), (10, pytest.approx(300.0))]
    assert fake.calls["nvmlDeviceGetTotalEnergyConsumption"] == 3  # ticks 0, 5 and 10


def test_pcie_counters_without_gpm(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("a100")
    _, v = run_ticks(sampler_for(fake), fake, 2)
    assert v["gpu.0.pcie_tx_bytes_per_s"] == pytest.approx(3e9)  # counter field deltas, across a wrap
    assert v["gpu.0.pcie_rx_bytes_per_s"] == pytest.approx(1e9)


def test_geforce_many_not_supported_cost_one_call_each(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("geforce")
    s = sampler_for(fake)
    ticks = run_ticks(s, fake, 10)
    v = ticks[-1]
    # no PCIe counter fields: falls back to nvmlDeviceGetPcieThroughput (KB/s -> bytes/s)
    assert v["gpu.0.pcie_tx_bytes_per_s"] == 4_000_000 * 1024
    assert "gpu.0.nvlink_tx_bytes_per_s" not in v  # no NVLinks: not asked
    assert "gpu.0.ecc_corrected" not in v and "gpu.0.energy_avg_w" not in v
    assert "gpu.0.xid_events" not in v
    assert v["gpu.0.temp_c"] == 55.0  # old driver: nvmlDeviceGetTemperature fallback
    for call in (
        "nvmlDeviceGetTotalEnergyConsumption",
        "nvmlDeviceGetProcessUtilization",
        "nvmlDeviceGetGraphicsRunningProcesses",
        "nvmlDeviceGetTemperatureV",
        "nvmlDeviceGetMigMode",
        "nvmlGpmQueryDeviceSupport",
    ):
        assert fake.calls[call] == 1, call
    assert fake.calls["nvmlDeviceGetTemperature"] == 10
    # link count once, then one tick: every field answered NOT_SUPPORTED, so none is asked for again
    assert fake.calls["nvmlDeviceGetFieldValues"] == 2
    d = s.details()
    assert (
        d["gpu.0.tier"] == "nvml" and d["gpu.0.tier_reason"] == "GPM not supported on this GPU (pre-Hopper)"
    )
    assert "nvmlDeviceGetTotalEnergyConsumption" in d["gpu.0.absent"]
    assert d["gpu.0.info"]["mig_mode"] is None


def test_field_values_not_supported_at_all_stops_asking(fake_nvml: MakeFake) -> None:
    no_gpm = {"nvmlDeviceGetFieldValues", "nvmlGpmQueryDeviceSupport"}
    fake = fake_nvml(Scenario(gpus=[GpuSpec(not_supported=no_gpm)]))
    s = sampler_for(fake)
    v = run_ticks(s, fake, 5)[-1]
    assert fake.calls["nvmlDeviceGetFieldValues"] == 1
    assert v["gpu.0.pcie_rx_bytes_per_s"] == 1_000_000 * 1024
    assert s.details()["gpu.0.info"]["nvlink_count"] is None


def test_eight_gpus_all_sampled(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("8gpu")
    s = sampler_for(fake)
    v = run_ticks(s, fake, 3)[-1]
    for i in range(8):
        assert v[f"gpu.{i}.sm_active"] == 85.0
        assert s.details()[f"gpu.{i}.tier"] == "gpm"
    assert {p["gpu"] for p in s.details()["gpu.processes"]} == set(range(8))


def test_xid_events_counted_per_gpu(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("h100")  # XID 79 at tick 3
    s = sampler_for(fake)
    ticks = run_ticks(s, fake, 5)
    assert [t["gpu.0.xid_events"] for t in ticks] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert s.details()["gpu.0.xid_last"]["xid"] == 79


def test_mig_mode_reported_and_utilization_absent(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec(mig=True)]))
    s = sampler_for(fake)
    v = run_ticks(s, fake, 3)[-1]
    d = s.details()
    assert d["gpu.0.info"]["mig_mode"] is True
    assert d["gpu.0.tier"] == "nvml" and "MIG" in d["gpu.0.tier_reason"]
    assert "gpu.0.util" not in v and v["gpu.0.mem_used_bytes"] == 20 * GiB
    assert fake.calls["nvmlDeviceGetUtilizationRates"] == 1


def test_runner_stores_values_and_details(fake_nvml: MakeFake) -> None:
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore

    fake = fake_nvml("a100")
    store = MetricStore(capacity=16)
    sampler = sampler_for(fake, energy_period_s=0)
    runner = SamplerRunner(store, [sampler])
    runner.sample_once()
    fake.advance()
    runner.sample_once()
    runner.stop()
    assert store.latest("gpu.0.energy_avg_w") == pytest.approx(300.0)
    assert store.detail("gpu.0.tier") == "nvml"
    assert store.status("gpu") is not None and store.status("gpu").available  # type: ignore[union-attr]
    assert fake.initialised == 0  # close() shut NVML down


def test_gpu_sampler_default_module_is_the_real_pynvml() -> None:
    s = GpuSampler(1.0)
    status = s.availability()
    if not status.available:
        assert status.reason == NO_DRIVER_REASON or status.reason
        assert s.sample() == {}
    s.close()


def test_runner_thread_with_a_realtime_fake() -> None:
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore
    from tests.fakes.fake_nvml import make_fake_nvml

    fake = make_fake_nvml("h100", realtime=True)
    store = MetricStore(capacity=64)
    runner = SamplerRunner(store, gpu_samplers(0.12, nvml=fake))
    runner.start()
    try:
        assert wait_for(lambda: store.latest("gpu.0.sm_active") is not None)
    finally:
        runner.stop()
    assert store.latest("gpu.0.sm_active") == 85.0
    assert store.latest("gpu.0.power_w") == 350.0
    assert store.status("gpu") is not None and store.status("gpu").available  # type: ignore[union-attr]
    assert fake.initialised == 0 and fake.gpm_freed == fake.gpm_alloc == 2


def test_memory_used_leaves_out_the_driver_reservation_like_nvidia_smi(fake_nvml: MakeFake) -> None:
    """Seen on an H100: v1 'used' was 480 MiB above nvidia-smi's in every workload (the reservation)."""
    fake = fake_nvml("h100")
    (v,) = run_ticks(sampler_for(fake), fake, 1)
    assert v["gpu.0.mem_used_bytes"] == 20 * GiB  # v2: reserved apart
    old = fake_nvml(
        Scenario(gpus=[GpuSpec(values=_h100_values(), not_supported={"nvmlDeviceGetMemoryInfo_v2"})])
    )
    s = sampler_for(old)
    ticks = run_ticks(s, old, 3)
    assert [t["gpu.0.mem_used_bytes"] for t in ticks] == [20 * GiB + 480 * 1024**2] * 3  # v1 fallback
    assert old.calls["nvmlDeviceGetMemoryInfo_v2"] == 1  # refused once, not asked again


def test_pcie_counters_are_32_bit_and_wrap(fake_nvml: MakeFake) -> None:
    """Seen on an H100 at 20 Hz during pageable copies: 4,220,802,888 then 396,235,728 (one wrap)."""
    values = _h100_values()
    values["pcie_rx_bytes"] = lambda t: (4_000_000_000 + round(2e9 * t)) % 2**32  # 2 GB/s, wraps at t ~ 0.15
    fake = fake_nvml(Scenario(gpus=[GpuSpec(values=values, not_supported={"nvmlGpmQueryDeviceSupport"})]))
    ticks = run_ticks(sampler_for(fake), fake, 4)
    assert [t.get("gpu.0.pcie_rx_bytes_per_s") for t in ticks[1:]] == [pytest.approx(2e9)] * 3
