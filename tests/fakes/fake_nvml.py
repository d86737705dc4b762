"""A fake `pynvml` for machines without an NVIDIA GPU.

It exposes the function names, constants, structure attributes and exception
classes of `nvidia-ml-py` (13.x) that perftui's GPU sampler uses, with the
same values (tests/gpu/test_fake_matches_pynvml.py checks them against the
installed `pynvml`). It is driven by a `Scenario`: number of GPUs, model and
architecture, which calls are supported, values as functions of time, faults
at tick k, and processes.

Time: `fake.now()` is `tick * tick_seconds` (tests call `fake.advance()`
between sampler ticks), or real elapsed time with `realtime=True` (snapshot,
benchmarks, UI demos). Field values carry `timestamp` in µs of that time.

`make_fake_nvml(name)` builds a ready-made scenario (see SCENARIOS).
"""

from __future__ import annotations

import math
import os
import time
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# -- constants (names and values as in pynvml) ------------------------------
NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_INSUFFICIENT_SIZE = 7
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25
NVML_ERROR_UNKNOWN = 999

NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_PCIE_UTIL_TX_BYTES = 0
NVML_PCIE_UTIL_RX_BYTES = 1
NVML_VOLATILE_ECC = 0
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_DEVICE_MIG_DISABLE = 0x0
NVML_DEVICE_MIG_ENABLE = 0x1

NVML_VALUE_TYPE_DOUBLE = 0
NVML_VALUE_TYPE_UNSIGNED_INT = 1
NVML_VALUE_TYPE_UNSIGNED_LONG = 2
NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3
NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4
NVML_VALUE_TYPE_SIGNED_INT = 5
NVML_VALUE_TYPE_UNSIGNED_SHORT = 6

NVML_FI_DEV_ECC_SBE_VOL_TOTAL = 3
NVML_FI_DEV_ECC_DBE_VOL_TOTAL = 4
NVML_FI_DEV_NVLINK_LINK_COUNT = 91
NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX = 138
NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX = 139
NVML_FI_DEV_PCIE_COUNT_TX_BYTES = 197
NVML_FI_DEV_PCIE_COUNT_RX_BYTES = 198

NVML_DEVICE_ARCH_VOLTA = 5
NVML_DEVICE_ARCH_TURING = 6
NVML_DEVICE_ARCH_AMPERE = 7
NVML_DEVICE_ARCH_ADA = 8
NVML_DEVICE_ARCH_HOPPER = 9
NVML_DEVICE_ARCH_BLACKWELL = 10

nvmlClocksEventReasonGpuIdle = 0x1
nvmlClocksEventReasonApplicationsClocksSetting = 0x2
nvmlClocksEventReasonSwPowerCap = 0x4
nvmlClocksEventReasonHwSlowdown = 0x8
nvmlClocksEventReasonSyncBoost = 0x10
nvmlClocksEventReasonSwThermalSlowdown = 0x20
nvmlClocksEventReasonHwThermalSlowdown = 0x40
nvmlClocksEventReasonHwPowerBrakeSlowdown = 0x80

nvmlEventTypeNone = 0x0
nvmlEventTypeXidCriticalError = 0x8

NVML_GPM_METRIC_SM_UTIL = 2
NVML_GPM_METRIC_SM_OCCUPANCY = 3
NVML_GPM_METRIC_ANY_TENSOR_UTIL = 5
NVML_GPM_METRIC_DRAM_BW_UTIL = 10
NVML_GPM_METRIC_FP64_UTIL = 11
NVML_GPM_METRIC_FP32_UTIL = 12
NVML_GPM_METRIC_FP16_UTIL = 13
NVML_GPM_METRIC_PCIE_TX_PER_SEC = 20
NVML_GPM_METRIC_PCIE_RX_PER_SEC = 21
NVML_GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC = 60
NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC = 61
NVML_GPM_METRIC_MAX = 477
NVML_GPM_METRICS_GET_VERSION = 1
NVML_GPM_SUPPORT_VERSION = 1

ALL_LINKS = 0xFFFFFFFF
GiB = 1024**3
MiB = 1024**2


# -- exceptions (same class names; NVMLError(code) maps to the subclass) -----
class NVMLError(Exception):
    _valClassMapping: dict[int, type[NVMLError]] = {}  # noqa: RUF012
    value: int

    def __new__(cls, value: int) -> NVMLError:
        if cls is NVMLError:
            cls = NVMLError._valClassMapping.get(value, NVMLError)
        obj = Exception.__new__(cls)
        obj.value = value
        return obj

    def __init__(self, value: int) -> None:
        super().__init__(value)

    def __str__(self) -> str:
        return _ERROR_STRINGS.get(self.value, f"NVML Error with code {self.value}")


_ERROR_STRINGS = {
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
    NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_NO_PERMISSION: "Insufficient Permissions",
    NVML_ERROR_NOT_FOUND: "Not Found",
    NVML_ERROR_INSUFFICIENT_SIZE: "Insufficient Size",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_TIMEOUT: "Timeout",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_FUNCTION_NOT_FOUND: "Function Not Found",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
    NVML_ERROR_UNKNOWN: "Unknown Error",
}


def _error_class(name: str, code: int) -> type[NVMLError]:
    def new(cls: type[NVMLError], *args: Any) -> NVMLError:
        obj = Exception.__new__(cls)
        obj.value = code
        return obj

    def init(self: NVMLError, *args: Any) -> None:
        Exception.__init__(self, code)

    klass = type(name, (NVMLError,), {"__new__": new, "__init__": init})
    NVMLError._valClassMapping[code] = klass
    return klass


NVMLError_Uninitialized = _error_class("NVMLError_Uninitialized", NVML_ERROR_UNINITIALIZED)
NVMLError_InvalidArgument = _error_class("NVMLError_InvalidArgument", NVML_ERROR_INVALID_ARGUMENT)
NVMLError_NotSupported = _error_class("NVMLError_NotSupported", NVML_ERROR_NOT_SUPPORTED)
NVMLError_NoPermission = _error_class("NVMLError_NoPermission", NVML_ERROR_NO_PERMISSION)
NVMLError_NotFound = _error_class("NVMLError_NotFound", NVML_ERROR_NOT_FOUND)
NVMLError_DriverNotLoaded = _error_class("NVMLError_DriverNotLoaded", NVML_ERROR_DRIVER_NOT_LOADED)
NVMLError_Timeout = _error_class("NVMLError_Timeout", NVML_ERROR_TIMEOUT)
NVMLError_LibraryNotFound = _error_class("NVMLError_LibraryNotFound", NVML_ERROR_LIBRARY_NOT_FOUND)
NVMLError_FunctionNotFound = _error_class("NVMLError_FunctionNotFound", NVML_ERROR_FUNCTION_NOT_FOUND)
NVMLError_GpuIsLost = _error_class("NVMLError_GpuIsLost", NVML_ERROR_GPU_IS_LOST)
NVMLError_Unknown = _error_class("NVMLError_Unknown", NVML_ERROR_UNKNOWN)


# -- structures (same attribute names as the ctypes ones) -------------------
class _Struct:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__})"

    def __getattr__(self, name: str) -> Any:  # typed access to the attributes set in __init__
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value


class c_nvmlMemory_t(_Struct):  # total, free, used
    pass


class c_nvmlMemory_v2_t(_Struct):  # version, total, reserved, free, used
    pass


nvmlMemory_v2 = 0x02000028


class c_nvmlUtilization_t(_Struct):  # gpu, memory
    pass


class nvmlPciInfo_t(_Struct):  # busId (bytes)
    pass


class c_nvmlValue_t(_Struct):  # dVal, uiVal, ulVal, ullVal, sllVal, siVal, usVal
    pass


class c_nvmlFieldValue_t(_Struct):  # fieldId, scopeId, timestamp, latencyUsec, valueType, nvmlReturn, value
    pass


class c_nvmlProcessUtilizationSample_t(_Struct):  # pid, timeStamp, smUtil, memUtil, encUtil, decUtil
    pass


class c_nvmlEventData_t(_Struct):  # device, eventType, eventData, gpuInstanceId, computeInstanceId
    pass


class c_nvmlGpmSupport_t(_Struct):  # version, isSupportedDevice
    pass


class c_nvmlGpmMetric_t:
    def __init__(self) -> None:
        self.metricId = 0
        self.nvmlReturn = NVML_SUCCESS
        self.value = 0.0


class c_nvmlGpmMetricsGet_t:
    def __init__(self) -> None:
        self.version = 0
        self.numMetrics = 0
        self.sample1: Any = None
        self.sample2: Any = None
        self.metrics = [c_nvmlGpmMetric_t() for _ in range(NVML_GPM_METRIC_MAX)]


class FakeHandle:
    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"FakeHandle({self.index})"


class FakeGpmSample:
    def __init__(self, serial: int) -> None:
        self.serial = serial
        self.device: int | None = None
        self.t: float | None = None
        self.freed = False


class FakeEventSet:
    def __init__(self) -> None:
        self.registered: dict[int, int] = {}
        self.pending: list[tuple[int, int]] = []
        self.seen_ticks: set[tuple[int, int]] = set()
        self.freed = False


# -- scenario ----------------------------------------------------------------
ValueFn = Callable[[float], float]


@dataclass
class FakeProcess:
    pid: int
    used_bytes: int | None = 2 * GiB
    kind: str = "compute"  # or "graphics"
    sm_util: int | None = 40
    mem_util: int | None = 10


def _h100_values(scale: float = 1.0) -> dict[str, ValueFn]:
    return {
        "util": lambda t: 50 + 40 * math.sin(t),
        "mem_util": lambda t: 30.0,
        "mem_used": lambda t: 20 * GiB * scale,
        "sm_clock": lambda t: 1980.0,
        "mem_clock": lambda t: 2619.0,
        "clock_events": lambda t: 0,
        "power_mw": lambda t: 350_000.0,
        "power_limit_mw": lambda t: 700_000.0,
        "energy_mj": lambda t: 10**9 + round(300_000 * t),  # 300 W
        "temp": lambda t: 55.0,
        "fan": lambda t: 40.0,
        # 32-bit counters, as on a real H100 (they wrap every ~1.4 s at 3 GB/s)
        "pcie_tx_bytes": lambda t: round(3_000_000_000 + 3e9 * t) % 2**32,  # 3 GB/s
        "pcie_rx_bytes": lambda t: round(1e9 * t) % 2**32,  # 1 GB/s
        "pcie_tx_kbs": lambda t: 4_000_000.0,
        "pcie_rx_kbs": lambda t: 1_000_000.0,
        "nvlink_tx_kib": lambda t: 10**9 + 1e8 * t,  # 100e6 KiB/s
        "nvlink_rx_kib": lambda t: 10**9 + 5e7 * t,
        "nvlink_tx_kib_link0": lambda t: 10**8 + 1e7 * t,
        "nvlink_rx_kib_link0": lambda t: 10**8 + 5e6 * t,
        "ecc_corrected": lambda t: 0,
        "ecc_uncorrected": lambda t: 0,
        "gpm.2": lambda t: 85.0,  # SM active
        "gpm.3": lambda t: 45.0,  # occupancy
        "gpm.5": lambda t: 60.0,  # any tensor
        "gpm.10": lambda t: 35.0,  # DRAM BW
        "gpm.11": lambda t: 0.0,
        "gpm.12": lambda t: 10.0,
        "gpm.13": lambda t: 2.0,
        "gpm.20": lambda t: 4000.0,  # PCIe tx MiB/s
        "gpm.21": lambda t: 1000.0,
        "gpm.60": lambda t: 300.0,  # NVLink rx MiB/s
        "gpm.61": lambda t: 600.0,
    }


@dataclass
class GpuSpec:
    name: str = "NVIDIA H100 80GB HBM3"
    arch: int = NVML_DEVICE_ARCH_HOPPER
    memory_total: int = 80 * GiB
    memory_reserved: int = 480 * MiB  # the driver's own: in v1 "used", apart in v2 (as on an H100)
    max_sm_clock: int = 1980
    max_mem_clock: int = 2619
    gpm: bool = True
    mig: bool = False
    nvlinks: int = 18
    values: dict[str, ValueFn] = field(default_factory=_h100_values)
    not_supported: set[str] = field(default_factory=set)  # call names raising NotSupported
    no_permission: set[str] = field(default_factory=set)
    unsupported_fields: set[int] = field(default_factory=set)
    unsupported_gpm_metrics: set[int] = field(default_factory=set)
    processes: list[FakeProcess] = field(default_factory=list)
    lost_at_tick: int | None = None
    xid_at_tick: dict[int, int] = field(default_factory=dict)
    supported_events: int = nvmlEventTypeXidCriticalError


@dataclass
class Scenario:
    name: str = "custom"
    gpus: list[GpuSpec] = field(default_factory=list)
    init_error: int | None = None  # an NVML_ERROR_* code raised by nvmlInit
    missing_functions: set[str] = field(default_factory=set)  # FunctionNotFound (old driver)
    driver_version: str = "550.54.15"
    nvml_version: str = "12.550.54.15"
    cuda_driver_version: int = 12040


class FakeNvml(types.ModuleType):
    """A module object with pynvml's names; every call is counted in `calls`."""

    def __init__(self, scenario: Scenario, *, tick_seconds: float = 1.0, realtime: bool = False) -> None:
        super().__init__("fake_pynvml")
        self.scenario = scenario
        self.tick_seconds = tick_seconds
        self.realtime = realtime
        self._t0 = time.monotonic()
        self._tick = 0
        self.initialised = 0
        self.calls: Counter[str] = Counter()
        self.gpm_alloc = 0
        self.gpm_freed = 0
        self.event_sets: list[FakeEventSet] = []
        self._serial = 0
        # module-level names, so `fake.NVMLError_NotSupported` etc. resolve as on pynvml
        g = globals()
        for name, value in g.items():
            if name.startswith(("NVML", "nvml", "c_nvml")) and name not in self.__dict__:
                setattr(self, name, value)

    # -- time --------------------------------------------------------------
    @property
    def tick(self) -> int:
        if self.realtime:
            return int(self.now() / self.tick_seconds)
        return self._tick

    def now(self) -> float:
        if self.realtime:
            return time.monotonic() - self._t0
        return self._tick * self.tick_seconds

    def advance(self, ticks: int = 1) -> None:
        self._tick += ticks

    # -- plumbing ----------------------------------------------------------
    def _enter(self, name: str, handle: Any = None) -> GpuSpec | None:
        self.calls[name] += 1
        if name in self.scenario.missing_functions:
            raise NVMLError(NVML_ERROR_FUNCTION_NOT_FOUND)
        if not self.initialised:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        if handle is None:
            return None
        if not isinstance(handle, FakeHandle) or not 0 <= handle.index < len(self.scenario.gpus):
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        spec = self.scenario.gpus[handle.index]
        if spec.lost_at_tick is not None and self.tick >= spec.lost_at_tick:
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)
        if name in spec.not_supported:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        if name in spec.no_permission:
            raise NVMLError(NVML_ERROR_NO_PERMISSION)
        return spec

    def _v(self, spec: GpuSpec, key: str) -> float:
        return spec.values[key](self.now())

    # -- init / system -----------------------------------------------------
    def nvmlInit(self) -> None:
        self.calls["nvmlInit"] += 1
        if self.scenario.init_error is not None:
            raise NVMLError(self.scenario.init_error)
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self._enter("nvmlShutdown")
        self.initialised -= 1

    def nvmlDeviceGetCount(self) -> int:
        self._enter("nvmlDeviceGetCount")
        return len(self.scenario.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeHandle:
        self._enter("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.scenario.gpus):
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return FakeHandle(index)

    def nvmlDeviceGetIndex(self, handle: FakeHandle) -> int:
        self._enter("nvmlDeviceGetIndex", handle)
        return handle.index

    def nvmlSystemGetDriverVersion(self) -> str:
        self._enter("nvmlSystemGetDriverVersion")
        return self.scenario.driver_version

    def nvmlSystemGetNVMLVersion(self) -> str:
        self._enter("nvmlSystemGetNVMLVersion")
        return self.scenario.nvml_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion")
        return self.scenario.cuda_driver_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion_v2")
        return self.scenario.cuda_driver_version

    # -- static device facts -------------------------------------------------
    def nvmlDeviceGetName(self, handle: FakeHandle) -> str:
        return self._spec("nvmlDeviceGetName", handle).name

    def nvmlDeviceGetUUID(self, handle: FakeHandle) -> str:
        self._spec("nvmlDeviceGetUUID", handle)
        return f"GPU-{handle.index:08x}-fake-4000-8000-{handle.index:012x}"

    def nvmlDeviceGetPciInfo(self, handle: FakeHandle) -> nvmlPciInfo_t:
        self._spec("nvmlDeviceGetPciInfo", handle)
        return nvmlPciInfo_t(busId=f"00000000:{0x18 + handle.index:02X}:00.0".encode())

    def nvmlDeviceGetMaxClockInfo(self, handle: FakeHandle, kind: int) -> int:
        spec = self._spec("nvmlDeviceGetMaxClockInfo", handle)
        return spec.max_sm_clock if kind == NVML_CLOCK_SM else spec.max_mem_clock

    def nvmlDeviceGetArchitecture(self, handle: FakeHandle) -> int:
        return self._spec("nvmlDeviceGetArchitecture", handle).arch

    def nvmlDeviceGetMigMode(self, handle: FakeHandle) -> list[int]:
        spec = self._spec("nvmlDeviceGetMigMode", handle)
        mode = NVML_DEVICE_MIG_ENABLE if spec.mig else NVML_DEVICE_MIG_DISABLE
        return [mode, mode]

    def _spec(self, name: str, handle: FakeHandle) -> GpuSpec:
        spec = self._enter(name, handle)
        assert spec is not None
        return spec

    # -- per tick ------------------------------------------------------------
    def nvmlDeviceGetUtilizationRates(self, handle: FakeHandle) -> c_nvmlUtilization_t:
        spec = self._spec("nvmlDeviceGetUtilizationRates", handle)
        if spec.mig:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return c_nvmlUtilization_t(gpu=int(self._v(spec, "util")), memory=int(self._v(spec, "mem_util")))

    def nvmlDeviceGetMemoryInfo(
        self, handle: FakeHandle, version: int | None = None
    ) -> c_nvmlMemory_t | c_nvmlMemory_v2_t:
        spec = self._spec("nvmlDeviceGetMemoryInfo_v2" if version else "nvmlDeviceGetMemoryInfo", handle)
        used, total, reserved = int(self._v(spec, "mem_used")), spec.memory_total, spec.memory_reserved
        free = total - used - reserved
        if version:
            if version != nvmlMemory_v2:
                raise NVMLError(NVML_ERROR_ARGUMENT_VERSION_MISMATCH)
            return c_nvmlMemory_v2_t(version=version, total=total, reserved=reserved, free=free, used=used)
        return c_nvmlMemory_t(total=total, used=used + reserved, free=free)

    def nvmlDeviceGetClockInfo(self, handle: FakeHandle, kind: int) -> int:
        spec = self._spec("nvmlDeviceGetClockInfo", handle)
        return int(self._v(spec, "sm_clock" if kind == NVML_CLOCK_SM else "mem_clock"))

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: FakeHandle) -> int:
        spec = self._spec("nvmlDeviceGetCurrentClocksEventReasons", handle)
        return int(self._v(spec, "clock_events"))

    def nvmlDeviceGetPowerUsage(self, handle: FakeHandle) -> int:
        return int(self._v(self._spec("nvmlDeviceGetPowerUsage", handle), "power_mw"))

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeHandle) -> int:
        return int(self._v(self._spec("nvmlDeviceGetEnforcedPowerLimit", handle), "power_limit_mw"))

    def nvmlDeviceGetPowerManagementDefaultLimit(self, handle: FakeHandle) -> int:
        spec = self._spec("nvmlDeviceGetPowerManagementDefaultLimit", handle)
        return int(
            self._v(
                spec,
                "default_power_limit_mw" if "default_power_limit_mw" in spec.values else "power_limit_mw",
            )
        )

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeHandle) -> int:
        spec = self._spec("nvmlDeviceGetTotalEnergyConsumption", handle)
        return int(self._v(spec, "energy_mj")) % 2**64

    def nvmlDeviceGetTemperature(self, handle: FakeHandle, sensor: int) -> int:
        return int(self._v(self._spec("nvmlDeviceGetTemperature", handle), "temp"))

    def nvmlDeviceGetTemperatureV(self, handle: FakeHandle, sensor: int) -> int:
        return int(self._v(self._spec("nvmlDeviceGetTemperatureV", handle), "temp"))

    def nvmlDeviceGetFanSpeed(self, handle: FakeHandle) -> int:
        return int(self._v(self._spec("nvmlDeviceGetFanSpeed", handle), "fan"))

    def nvmlDeviceGetPcieThroughput(self, handle: FakeHandle, counter: int) -> int:
        spec = self._spec("nvmlDeviceGetPcieThroughput", handle)
        return int(self._v(spec, "pcie_tx_kbs" if counter == NVML_PCIE_UTIL_TX_BYTES else "pcie_rx_kbs"))

    def nvmlDeviceGetFieldValues(self, handle: FakeHandle, field_ids: list[Any]) -> list[c_nvmlFieldValue_t]:
        spec = self._spec("nvmlDeviceGetFieldValues", handle)
        ts = int(self.now() * 1e6)
        out = []
        for fid_scope in field_ids:
            fid, scope = fid_scope if isinstance(fid_scope, tuple) else (fid_scope, 0)
            fv = c_nvmlFieldValue_t(
                fieldId=fid,
                scopeId=scope,
                timestamp=ts,
                latencyUsec=0,
                valueType=NVML_VALUE_TYPE_UNSIGNED_LONG_LONG,
                nvmlReturn=NVML_SUCCESS,
                value=c_nvmlValue_t(dVal=0.0, uiVal=0, ulVal=0, ullVal=0, sllVal=0, siVal=0, usVal=0),
            )
            key = self._field_key(spec, fid, scope)
            if key is None or fid in spec.unsupported_fields:
                fv.nvmlReturn = NVML_ERROR_NOT_SUPPORTED
            elif fid == NVML_FI_DEV_NVLINK_LINK_COUNT:
                fv.valueType = NVML_VALUE_TYPE_UNSIGNED_INT
                fv.value.uiVal = spec.nvlinks
            else:
                fv.value.ullVal = int(self._v(spec, key))
            out.append(fv)
        return out

    @staticmethod
    def _field_key(spec: GpuSpec, fid: int, scope: int) -> str | None:
        if fid in (NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX):
            if spec.nvlinks == 0:
                return None
            base = "nvlink_tx_kib" if fid == NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX else "nvlink_rx_kib"
            # A bare field id reads link 0 only, as on real NVML.
            return base if scope == ALL_LINKS else base + "_link0"
        return {
            NVML_FI_DEV_PCIE_COUNT_TX_BYTES: "pcie_tx_bytes",
            NVML_FI_DEV_PCIE_COUNT_RX_BYTES: "pcie_rx_bytes",
            NVML_FI_DEV_ECC_SBE_VOL_TOTAL: "ecc_corrected",
            NVML_FI_DEV_ECC_DBE_VOL_TOTAL: "ecc_uncorrected",
            NVML_FI_DEV_NVLINK_LINK_COUNT: "nvlink_count",
        }.get(fid)

    # -- processes -------------------------------------------------------------
    def _procs(self, name: str, handle: FakeHandle, kind: str) -> list[_Struct]:
        spec = self._spec(name, handle)
        return [
            _Struct(
                pid=p.pid, usedGpuMemory=p.used_bytes, gpuInstanceId=0xFFFFFFFF, computeInstanceId=0xFFFFFFFF
            )
            for p in spec.processes
            if p.kind == kind
        ]

    def nvmlDeviceGetComputeRunningProcesses(self, handle: FakeHandle) -> list[_Struct]:
        return self._procs("nvmlDeviceGetComputeRunningProcesses", handle, "compute")

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: FakeHandle) -> list[_Struct]:
        return self._procs("nvmlDeviceGetGraphicsRunningProcesses", handle, "graphics")

    def nvmlDeviceGetProcessUtilization(
        self, handle: FakeHandle, last_seen: int
    ) -> list[c_nvmlProcessUtilizationSample_t]:
        spec = self._spec("nvmlDeviceGetProcessUtilization", handle)
        # the driver's sample time: one sample per tick, stamped in µs of fake time
        stamp = 1_700_000_000_000_000 + int(self.now() * 1e6)
        samples = [
            c_nvmlProcessUtilizationSample_t(
                pid=p.pid, timeStamp=stamp, smUtil=p.sm_util, memUtil=p.mem_util, encUtil=0, decUtil=0
            )
            for p in spec.processes
            if p.sm_util is not None and stamp > last_seen
        ]
        if not samples:
            raise NVMLError(NVML_ERROR_NOT_FOUND)
        return samples

    # -- events (XID) ------------------------------------------------------------
    def nvmlDeviceGetSupportedEventTypes(self, handle: FakeHandle) -> int:
        return self._spec("nvmlDeviceGetSupportedEventTypes", handle).supported_events

    def nvmlEventSetCreate(self) -> FakeEventSet:
        self._enter("nvmlEventSetCreate")
        es = FakeEventSet()
        self.event_sets.append(es)
        return es

    def nvmlDeviceRegisterEvents(self, handle: FakeHandle, types_: int, event_set: FakeEventSet) -> None:
        spec = self._spec("nvmlDeviceRegisterEvents", handle)
        if types_ & ~spec.supported_events:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        event_set.registered[handle.index] = types_

    def nvmlEventSetWait_v2(self, event_set: FakeEventSet, timeout_ms: int) -> c_nvmlEventData_t:
        self._enter("nvmlEventSetWait_v2")
        for index, types_ in event_set.registered.items():
            spec = self.scenario.gpus[index]
            for tick, xid in spec.xid_at_tick.items():
                if tick <= self.tick and (index, tick) not in event_set.seen_ticks:
                    event_set.seen_ticks.add((index, tick))
                    if types_ & nvmlEventTypeXidCriticalError:
                        event_set.pending.append((index, xid))
        if not event_set.pending:
            raise NVMLError(NVML_ERROR_TIMEOUT)
        index, xid = event_set.pending.pop(0)
        return c_nvmlEventData_t(
            device=FakeHandle(index),
            eventType=nvmlEventTypeXidCriticalError,
            eventData=xid,
            gpuInstanceId=0xFFFFFFFF,
            computeInstanceId=0xFFFFFFFF,
        )

    def nvmlEventSetWait(self, event_set: FakeEventSet, timeout_ms: int) -> c_nvmlEventData_t:
        return self.nvmlEventSetWait_v2(event_set, timeout_ms)

    def nvmlEventSetFree(self, event_set: FakeEventSet) -> None:
        self._enter("nvmlEventSetFree")
        event_set.freed = True

    # -- GPM -----------------------------------------------------------------------
    def nvmlGpmQueryDeviceSupport(self, handle: FakeHandle) -> c_nvmlGpmSupport_t:
        spec = self._spec("nvmlGpmQueryDeviceSupport", handle)
        return c_nvmlGpmSupport_t(version=NVML_GPM_SUPPORT_VERSION, isSupportedDevice=int(spec.gpm))

    def nvmlGpmSampleAlloc(self) -> FakeGpmSample:
        self._enter("nvmlGpmSampleAlloc")
        self._serial += 1
        self.gpm_alloc += 1
        return FakeGpmSample(self._serial)

    def nvmlGpmSampleFree(self, sample: FakeGpmSample) -> None:
        self._enter("nvmlGpmSampleFree")
        if sample.freed:
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        sample.freed = True
        self.gpm_freed += 1

    def nvmlGpmSampleGet(self, handle: FakeHandle, sample: FakeGpmSample) -> FakeGpmSample:
        spec = self._spec("nvmlGpmSampleGet", handle)
        if not spec.gpm or sample.freed:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED if not spec.gpm else NVML_ERROR_INVALID_ARGUMENT)
        sample.device = handle.index
        sample.t = self.now()
        return sample

    def nvmlGpmMetricsGet(self, mg: c_nvmlGpmMetricsGet_t) -> c_nvmlGpmMetricsGet_t:
        self._enter("nvmlGpmMetricsGet")
        s1, s2 = mg.sample1, mg.sample2
        if mg.version != NVML_GPM_METRICS_GET_VERSION or not isinstance(s1, FakeGpmSample) or s1 is s2:
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        assert isinstance(s2, FakeGpmSample)
        if s1.t is None or s2.t is None or s1.device != s2.device or s2.t <= s1.t:
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        spec = self.scenario.gpus[s2.device] if s2.device is not None else None
        assert spec is not None
        for i in range(mg.numMetrics):
            m = mg.metrics[i]
            fn = spec.values.get(f"gpm.{m.metricId}")
            if fn is None or m.metricId in spec.unsupported_gpm_metrics:
                m.nvmlReturn, m.value = NVML_ERROR_NOT_SUPPORTED, 0.0
            else:
                m.nvmlReturn, m.value = NVML_SUCCESS, float(fn(s2.t))
        return mg


# -- ready-made scenarios -------------------------------------------------------
def _a100() -> GpuSpec:
    values = _h100_values()
    for k in [k for k in values if k.startswith("gpm.")]:
        del values[k]
    return GpuSpec(
        name="NVIDIA A100-SXM4-80GB",
        arch=NVML_DEVICE_ARCH_AMPERE,
        gpm=False,
        nvlinks=12,
        max_sm_clock=1410,
        max_mem_clock=1593,
        values=values,
    )


def _geforce(pid: int) -> GpuSpec:
    values = _h100_values()
    values["energy_mj"] = lambda t: 5 * 10**8 + round(120_000 * t)
    return GpuSpec(
        name="NVIDIA GeForce RTX 4090",
        arch=NVML_DEVICE_ARCH_ADA,
        memory_total=24 * GiB,
        gpm=False,
        nvlinks=0,
        values=values,
        not_supported={
            "nvmlDeviceGetMigMode",
            "nvmlDeviceGetProcessUtilization",
            "nvmlDeviceGetGraphicsRunningProcesses",
            "nvmlDeviceGetSupportedEventTypes",
            "nvmlDeviceRegisterEvents",
            "nvmlGpmQueryDeviceSupport",
            "nvmlDeviceGetTotalEnergyConsumption",
        },
        unsupported_fields={
            NVML_FI_DEV_PCIE_COUNT_TX_BYTES,
            NVML_FI_DEV_PCIE_COUNT_RX_BYTES,
            NVML_FI_DEV_ECC_SBE_VOL_TOTAL,
            NVML_FI_DEV_ECC_DBE_VOL_TOTAL,
        },
        processes=[FakeProcess(pid=pid, used_bytes=3 * GiB, kind="compute", sm_util=None)],
    )


def _scenario(name: str, pid: int | None = None) -> Scenario:
    me = os.getpid() if pid is None else pid
    if name == "none":
        return Scenario(name)
    if name == "h100":
        procs = [FakeProcess(pid=me, used_bytes=8 * GiB, sm_util=70, mem_util=25)]
        return Scenario(name, [GpuSpec(processes=procs, xid_at_tick={3: 79})])
    if name == "a100":
        return Scenario(name, [_a100()])
    if name == "geforce":
        # an old driver: no nvmlDeviceGetTemperatureV
        return Scenario(name, [_geforce(me)], missing_functions={"nvmlDeviceGetTemperatureV"})
    if name == "8gpu":
        gpus = [GpuSpec(processes=[FakeProcess(pid=me, used_bytes=(i + 1) * GiB)]) for i in range(8)]
        return Scenario(name, gpus)
    if name == "lost":
        return Scenario(name, [GpuSpec(), GpuSpec(lost_at_tick=3)])
    if name == "nodriver":
        return Scenario(name, init_error=NVML_ERROR_LIBRARY_NOT_FOUND)
    if name == "driver_not_loaded":
        return Scenario(name, init_error=NVML_ERROR_DRIVER_NOT_LOADED)
    if name == "energy_wrap":
        values = _h100_values()
        # 300 W; the uint64 millijoule counter wraps between tick 2 and tick 3
        values["energy_mj"] = lambda t: 2**64 - 450_000 + round(300_000 * t)  # exact ints
        return Scenario(name, [GpuSpec(values=values)])
    if name == "mixed":
        return Scenario(name, [GpuSpec(), _a100(), _geforce(me)])
    raise KeyError(f"unknown fake NVML scenario {name!r}; known: {', '.join(SCENARIOS)}")


SCENARIOS: tuple[str, ...] = (
    "none",
    "h100",
    "a100",
    "geforce",
    "8gpu",
    "lost",
    "nodriver",
    "driver_not_loaded",
    "energy_wrap",
    "mixed",
)


def make_fake_nvml(
    scenario_name: str, *, realtime: bool = True, tick_seconds: float = 1.0, pid: int | None = None
) -> FakeNvml:
    """A fake `pynvml` for a named scenario (SCENARIOS); pass it as `nvml=` to the GPU sampler.

    realtime=True: time runs with the wall clock (the dashboard, snapshot: the real runner);
    realtime=False: time moves only with `fake.advance()` (unit tests, deterministic screenshots).
    pid: the pid the scenario's GPU processes report (default: this process, so it exists in /proc;
    pass a fixed number for screenshots, or the pid of a process you attach to).
    """
    return FakeNvml(_scenario(scenario_name, pid), realtime=realtime, tick_seconds=tick_seconds)
