"""The fake NVML must speak pynvml's language: same names, same values, same struct attributes."""

from __future__ import annotations

import ctypes
import inspect

import pynvml
import pytest

from tests.fakes import fake_nvml as fake_mod
from tests.fakes.fake_nvml import FakeNvml, Scenario


def _public_constants() -> dict[str, int]:
    return {
        n: v
        for n, v in vars(fake_mod).items()
        if n.startswith(("NVML_", "nvml")) and isinstance(v, int) and n != "NVML_GPM_METRIC_MAX"
    }


def test_every_fake_constant_exists_in_pynvml_with_the_same_value() -> None:
    consts = _public_constants()
    assert len(consts) > 60
    wrong = {
        n: (v, getattr(pynvml, n, "MISSING")) for n, v in consts.items() if getattr(pynvml, n, None) != v
    }
    assert wrong == {}


def test_gpm_metric_array_is_as_large_as_pynvmls() -> None:
    assert fake_mod.NVML_GPM_METRIC_MAX == pynvml.NVML_GPM_METRIC_MAX


def test_every_fake_function_exists_in_pynvml_with_compatible_arity() -> None:
    fns = [n for n, v in vars(FakeNvml).items() if n.startswith("nvml") and callable(v)]
    assert len(fns) > 35
    for name in fns:
        real = getattr(pynvml, name, None)
        assert real is not None, name
        fake_params = list(inspect.signature(getattr(FakeNvml, name)).parameters)[1:]  # drop self
        real_required = [
            p for p in inspect.signature(real).parameters.values() if p.default is inspect.Parameter.empty
        ]
        real_all = list(inspect.signature(real).parameters)
        assert len(real_required) <= len(fake_params) <= len(real_all), name


def test_every_fake_exception_class_exists_in_pynvml_and_maps_the_same_code() -> None:
    names = [n for n in vars(fake_mod) if n.startswith("NVMLError_")]
    assert "NVMLError_NotSupported" in names and "NVMLError_GpuIsLost" in names
    for name in names:
        fake_cls = getattr(fake_mod, name)
        real_cls = getattr(pynvml, name)
        assert fake_cls(0).value == real_cls(0).value, name
        assert type(fake_mod.NVMLError(fake_cls(0).value)) is fake_cls
        assert issubclass(fake_cls, fake_mod.NVMLError)


def _ctypes_fields(struct: type) -> set[str]:
    return {f[0] for f in struct._fields_}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("call", "args", "real_struct"),
    [
        ("nvmlDeviceGetUtilizationRates", (), pynvml.c_nvmlUtilization_t),
        ("nvmlDeviceGetMemoryInfo", (), pynvml.c_nvmlMemory_t),
        ("nvmlDeviceGetPciInfo", (), None),
        ("nvmlGpmQueryDeviceSupport", (), pynvml.c_nvmlGpmSupport_t),
    ],
)
def test_fake_struct_attributes_are_pynvml_struct_fields(
    call: str, args: tuple[object, ...], real_struct: type | None
) -> None:
    fake = FakeNvml(Scenario(gpus=[fake_mod.GpuSpec()]))
    fake.nvmlInit()
    obj = getattr(fake, call)(fake.nvmlDeviceGetHandleByIndex(0), *args)
    if real_struct is None:
        assert "busId" in _ctypes_fields(pynvml.nvmlPciInfo_t) and hasattr(obj, "busId")
        return
    assert set(vars(obj)) - {"version"} <= _ctypes_fields(real_struct)


def test_fake_field_value_process_and_event_structs_match() -> None:
    fake = FakeNvml(
        Scenario(gpus=[fake_mod.GpuSpec(processes=[fake_mod.FakeProcess(pid=1)], xid_at_tick={0: 13})])
    )
    fake.nvmlInit()
    h = fake.nvmlDeviceGetHandleByIndex(0)
    fv = fake.nvmlDeviceGetFieldValues(h, [(fake.NVML_FI_DEV_PCIE_COUNT_TX_BYTES, 0)])[0]
    assert set(vars(fv)) == _ctypes_fields(pynvml.c_nvmlFieldValue_t)
    assert set(vars(fv.value)) == _ctypes_fields(pynvml.c_nvmlValue_t)
    (p,) = fake.nvmlDeviceGetComputeRunningProcesses(h)
    assert set(vars(p)) == _ctypes_fields(pynvml.c_nvmlProcessInfo_t)
    (u,) = fake.nvmlDeviceGetProcessUtilization(h, 0)
    assert set(vars(u)) == _ctypes_fields(pynvml.c_nvmlProcessUtilizationSample_t)
    es = fake.nvmlEventSetCreate()
    fake.nvmlDeviceRegisterEvents(h, fake.nvmlEventTypeXidCriticalError, es)
    ev = fake.nvmlEventSetWait_v2(es, 0)
    assert set(vars(ev)) == _ctypes_fields(pynvml.c_nvmlEventData_t)
    gpm_metric = fake.c_nvmlGpmMetricsGet_t().metrics[0]
    assert set(vars(gpm_metric)) <= _ctypes_fields(pynvml.c_nvmlGpmMetric_t)
    assert set(vars(fake.c_nvmlGpmMetricsGet_t())) == _ctypes_fields(pynvml.c_nvmlGpmMetricsGet_t)


def test_real_gpm_request_struct_accepts_what_the_sampler_writes() -> None:
    # the exact writes GpmTier makes, on pynvml's own ctypes structure
    mg = pynvml.c_nvmlGpmMetricsGet_t()
    mg.version = pynvml.NVML_GPM_METRICS_GET_VERSION
    mg.numMetrics = 2
    mg.metrics[0].metricId = pynvml.NVML_GPM_METRIC_SM_UTIL
    mg.metrics[1].metricId = pynvml.NVML_GPM_METRIC_DRAM_BW_UTIL
    s1, s2 = pynvml.c_nvmlGpmSample_t(), pynvml.c_nvmlGpmSample_t()
    mg.sample1, mg.sample2 = s1, s2
    assert mg.metrics[1].metricId == 10 and int(mg.metrics[0].nvmlReturn) == 0
    assert ctypes.sizeof(mg) > 0


def test_named_scenarios_build_and_take_a_pid() -> None:
    from tests.fakes.fake_nvml import SCENARIOS, make_fake_nvml

    for name in SCENARIOS:
        assert make_fake_nvml(name).scenario.name == name
    fake = make_fake_nvml("h100", pid=4242, realtime=False)
    fake.nvmlInit()
    (proc,) = fake.nvmlDeviceGetComputeRunningProcesses(fake.nvmlDeviceGetHandleByIndex(0))
    assert proc.pid == 4242
    with pytest.raises(KeyError, match="unknown fake NVML scenario"):
        make_fake_nvml("nope")


def test_fake_is_uninitialised_until_nvml_init() -> None:
    fake = FakeNvml(Scenario(gpus=[fake_mod.GpuSpec()]))
    with pytest.raises(fake_mod.NVMLError_Uninitialized):
        fake.nvmlDeviceGetCount()
