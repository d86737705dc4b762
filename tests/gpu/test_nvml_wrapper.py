"""The NVML wrapper: availability reasons, remembered failures, lost GPUs, call counters."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from perftui.samplers.nvml import DRIVER_NOT_LOADED_REASON, NO_DRIVER_REASON, NO_GPU_REASON, Nvml
from tests.fakes.fake_nvml import GpuSpec, Scenario
from tests.gpu.conftest import MakeFake


def test_real_pynvml_on_a_machine_without_driver_says_so() -> None:
    nv = Nvml(None)  # imports the real pynvml; this machine has no libnvidia-ml.so.1
    status = nv.init()
    if status.available:  # pragma: no cover - only on a GPU machine
        assert nv.count >= 1
        nv.shutdown()
        return
    assert status.reason in (NO_DRIVER_REASON, DRIVER_NOT_LOADED_REASON, NO_GPU_REASON)


def test_without_the_library_pynvml_is_not_even_imported() -> None:
    """No libnvidia-ml.so.1 for the loader: the same reason as pynvml's, without its ~20 ms import."""
    code = (
        "import sys\n"
        "from perftui.samplers import nvml\n"
        "if nvml.nvml_library_found():\n"
        "    print('found')\n"
        "else:\n"
        "    assert nvml.Nvml(None).init().reason == nvml.NO_DRIVER_REASON\n"
        "    print('pynvml' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() in ("False", "found")  # "found": a machine with the driver


def test_without_the_library_the_gpu_source_loads_none_of_its_modules() -> None:
    """build_samplers on a driverless machine: the GPU source reports why, and neither pynvml nor the
    GPU sampler's modules (~10 ms of the dashboard's start) are imported."""
    code = (
        "import sys\n"
        "from perftui.samplers import nvml\n"
        "from perftui.samplers.factory import SamplerOptions, build_samplers\n"
        "samplers = build_samplers(SamplerOptions(interval=1.0, gpu=True, proctable=True))\n"
        "gpu = [s for s in samplers if s.name == 'gpu']\n"
        "if nvml.nvml_library_found():\n"
        "    print('found')\n"
        "else:\n"
        "    assert [s.availability().reason for s in gpu] == [nvml.NO_DRIVER_REASON], gpu\n"
        "    assert gpu[0].sample() == {} and gpu[0].details() == {}\n"
        "    late = ('pynvml', 'perftui.samplers.gpu', 'perftui.core.gpu_peaks')\n"
        "    print(sorted(m for m in late if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() in ("[]", "found")


def test_an_injected_nvml_module_always_gets_the_real_gpu_sampler(fake_nvml: MakeFake) -> None:
    from perftui.samplers.factory import SamplerOptions, build_samplers
    from perftui.samplers.gpu import GpuSampler

    samplers = build_samplers(SamplerOptions(interval=1.0, gpu=True, nvml=fake_nvml("none")))
    assert [type(s) for s in samplers if s.name == "gpu"] == [GpuSampler]


def test_a_found_library_goes_on_to_pynvml(monkeypatch: pytest.MonkeyPatch, fake_nvml: MakeFake) -> None:
    import ctypes

    from perftui.samplers import nvml

    opened: list[str] = []
    monkeypatch.setattr(ctypes, "CDLL", lambda name: opened.append(name))
    monkeypatch.setattr(nvml.sys, "platform", "linux")
    assert nvml.nvml_library_found() and opened == [nvml.NVML_LIBRARY]
    monkeypatch.setattr(nvml, "load_pynvml", lambda: fake_nvml("none"))
    assert Nvml(None).init().reason == NO_GPU_REASON  # the module's own answer, past the check

    def missing(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert Nvml(None).init().reason == NO_DRIVER_REASON


def test_library_not_found(fake_nvml: MakeFake) -> None:
    assert Nvml(fake_nvml("nodriver")).init().reason == NO_DRIVER_REASON


def test_driver_not_loaded(fake_nvml: MakeFake) -> None:
    assert Nvml(fake_nvml("driver_not_loaded")).init().reason == DRIVER_NOT_LOADED_REASON


def test_no_gpu(fake_nvml: MakeFake) -> None:
    assert Nvml(fake_nvml("none")).init().reason == NO_GPU_REASON


def test_module_whose_init_raises_a_foreign_error_means_no_driver() -> None:
    mod = types.ModuleType("broken_pynvml")

    def nvmlInit() -> None:
        raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    mod.nvmlInit = nvmlInit  # type: ignore[attr-defined]
    assert Nvml(mod).init().reason == NO_DRIVER_REASON


def test_other_init_failure_gives_its_reason(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec()], init_error=999))
    status = Nvml(fake).init()
    assert not status.available
    assert status.reason == "NVML did not initialise: Unknown Error"


def test_not_supported_costs_one_call_in_total(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec(not_supported={"nvmlDeviceGetFanSpeed"})]))
    nv = Nvml(fake)
    assert nv.init().available
    results = [nv.dev(0, "nvmlDeviceGetFanSpeed") for _ in range(50)]
    assert results == [None] * 50
    assert fake.calls["nvmlDeviceGetFanSpeed"] == 1
    assert nv.calls[(0, "nvmlDeviceGetFanSpeed")] == 1
    assert not nv.supported(0, "nvmlDeviceGetFanSpeed")


def test_no_permission_and_missing_function_are_remembered(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(
        Scenario(
            gpus=[GpuSpec(no_permission={"nvmlDeviceGetPowerUsage"})],
            missing_functions={"nvmlDeviceGetFanSpeed"},
        )
    )
    nv = Nvml(fake)
    nv.init()
    for _ in range(10):
        assert nv.dev(0, "nvmlDeviceGetPowerUsage") is None
        assert nv.dev(0, "nvmlDeviceGetFanSpeed") is None
        assert nv.dev(0, "nvmlDeviceGetNotInThisBinding") is None
    assert fake.calls["nvmlDeviceGetPowerUsage"] == 1
    assert fake.calls["nvmlDeviceGetFanSpeed"] == 1
    assert not nv.has("nvmlDeviceGetNotInThisBinding")


def test_unsupported_is_per_device_and_per_argument(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec(not_supported={"nvmlDeviceGetFanSpeed"}), GpuSpec()]))
    nv = Nvml(fake)
    nv.init()
    for _ in range(3):
        assert nv.dev(0, "nvmlDeviceGetFanSpeed") is None
        assert nv.dev(1, "nvmlDeviceGetFanSpeed") == 40
        assert nv.dev(0, "nvmlDeviceGetClockInfo", 1) == 1980
    assert fake.calls["nvmlDeviceGetFanSpeed"] == 4


def test_transient_errors_are_not_remembered(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec()]))
    nv = Nvml(fake)
    nv.init()
    for _ in range(3):  # NOT_FOUND: no new process samples, ask again next time
        assert nv.dev(0, "nvmlDeviceGetProcessUtilization", 0) is None
    assert fake.calls["nvmlDeviceGetProcessUtilization"] == 3
    assert nv.errors[(0, "nvmlDeviceGetProcessUtilization")] == 3


def test_gpu_lost_marks_only_that_device(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("lost")  # GPU 1 lost from tick 3
    nv = Nvml(fake)
    nv.init()
    fake.advance(3)
    assert nv.dev(1, "nvmlDeviceGetPowerUsage") is None
    assert 1 in nv.lost and 0 not in nv.lost
    before = fake.calls["nvmlDeviceGetPowerUsage"]
    assert nv.dev(1, "nvmlDeviceGetPowerUsage") is None
    assert fake.calls["nvmlDeviceGetPowerUsage"] == before  # not asked again
    assert nv.dev(0, "nvmlDeviceGetPowerUsage") == 350_000


def test_timed_mode_records_time_per_call(fake_nvml: MakeFake) -> None:
    nv = Nvml(fake_nvml("h100"), timed=True)
    nv.init()
    nv.dev(0, "nvmlDeviceGetPowerUsage")
    assert nv.seconds["nvmlDeviceGetPowerUsage"] > 0
    assert nv.calls_by_name()["nvmlDeviceGetPowerUsage"] == 1


def test_changing_arguments_do_not_defeat_the_memory(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec(not_supported={"nvmlDeviceGetProcessUtilization"})]))
    nv = Nvml(fake)
    nv.init()
    for last_seen in range(0, 10_000, 1000):  # a last-seen timestamp that moves every tick
        assert nv.dev(0, "nvmlDeviceGetProcessUtilization", last_seen) is None
    assert fake.calls["nvmlDeviceGetProcessUtilization"] == 1
