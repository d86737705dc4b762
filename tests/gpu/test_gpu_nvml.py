"""The typed NVML accessors (samplers/gpu_nvml.py) over the fake pynvml: units converted once, a
feature a driver lacks asked once, None for what is absent."""

from __future__ import annotations

from perftui.samplers.gpu_nvml import GpuDevice, driver_versions
from perftui.samplers.nvml import Nvml
from tests.fakes.fake_nvml import GiB, GpuSpec, MiB, Scenario
from tests.gpu.conftest import MakeFake


def _device(fake_nvml: MakeFake, scenario: str | Scenario) -> tuple[GpuDevice, Nvml]:
    nv = Nvml(fake_nvml(scenario))  # type: ignore[arg-type]
    assert nv.init().available
    return GpuDevice(nv, 0), nv


def test_h100_answers_in_si_units(fake_nvml: MakeFake) -> None:
    dev, nv = _device(fake_nvml, "h100")
    info, arch = dev.static_info()
    assert info.name == "NVIDIA H100 80GB HBM3" and arch == 9 and info.architecture == "Hopper"
    assert info.memory_total_bytes == 80 * GiB and info.max_sm_clock_mhz == 1980
    assert info.power_limit_w == 700.0 and info.nvlink_count == 18 and info.mig_mode is False
    assert dev.power_w() == 350.0 and dev.power_limit_w() == 700.0
    mem = dev.memory()
    v1 = dev.memory(v2=False)
    assert mem is not None and v1 is not None and v1.used - mem.used == 480 * MiB  # v2 leaves it out
    assert dev.temperature_c() == 55.0
    assert dev.pcie_throughput_bytes_per_s("tx") == 4_000_000.0 * 1024
    assert driver_versions(nv)[2] is not None


def test_an_old_driver_without_temperature_v_is_asked_once(fake_nvml: MakeFake) -> None:
    dev, nv = _device(fake_nvml, "geforce")
    temps = [dev.temperature_c() for _ in range(3)]
    assert all(t is not None for t in temps)
    calls = nv.calls_by_name()
    assert calls["nvmlDeviceGetTemperatureV"] == 1  # FunctionNotFound once, then not asked again
    assert calls["nvmlDeviceGetTemperature"] == 3


def test_unsupported_calls_answer_none(fake_nvml: MakeFake) -> None:
    spec = GpuSpec(not_supported={"nvmlDeviceGetPowerUsage", "nvmlDeviceGetFanSpeed"})
    dev, nv = _device(fake_nvml, Scenario(gpus=[spec]))
    assert dev.power_w() is None and dev.fan_pct() is None and dev.power_w() is None
    assert nv.calls_by_name()["nvmlDeviceGetPowerUsage"] == 1
