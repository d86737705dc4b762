"""Typed NVML accessors (GPU sampler, process tracker): one method per question, a typed answer or None.

The Nvml wrapper (samplers/nvml.py) takes calls by name and answers `Any` (a binding's ctypes
structs, ints in mW or mJ). Here each call the GPU sampler makes gets a name, its arguments and
its units, once: the sampler reads `dev.power_w()` rather than `nv.dev(i, "nvmlDeviceGetPowerUsage")
/ 1000`. The calls themselves still go through Nvml (its memory of unsupported calls, lost GPUs,
counters and timing are unchanged; call names are NVML's, so fakes and counters see the same calls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from perftui.core.gpu import GpuInfo, arch_name
from perftui.samplers.nvml import Nvml

Clock = Literal["sm", "mem"]
Direction = Literal["tx", "rx"]

_VALUE_FIELDS = ("dVal", "uiVal", "ulVal", "ullVal", "sllVal", "siVal", "usVal")  # by NVML_VALUE_TYPE_*
_CLOCKS: dict[Clock, tuple[str, int]] = {"sm": ("NVML_CLOCK_SM", 1), "mem": ("NVML_CLOCK_MEM", 2)}
_PCIE: dict[Direction, tuple[str, int]] = {
    "tx": ("NVML_PCIE_UTIL_TX_BYTES", 0),
    "rx": ("NVML_PCIE_UTIL_RX_BYTES", 1),
}
TEMP_V = "nvmlDeviceGetTemperatureV"
TEMP_V1 = "nvmlDeviceGetTemperature"


def text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def field_value(fv: Any) -> float | int | None:
    """The number in a c_nvmlFieldValue_t, by its valueType."""
    vt = int(fv.valueType)
    if not 0 <= vt < len(_VALUE_FIELDS):
        return None
    return getattr(fv.value, _VALUE_FIELDS[vt])  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Memory:
    total: int
    used: int


@dataclass(frozen=True)
class Utilization:
    gpu: float  # % of the interval a kernel ran
    memory: float  # % of the interval memory was read or written


@dataclass(frozen=True)
class FieldValue:
    ret: int  # NVML_SUCCESS (0) or the error for this one field
    value: float | int | None
    timestamp_us: int


@dataclass(frozen=True)
class RunningProcess:
    pid: int  # the host pid (NVML reports host pids, also for containers)
    used_bytes: int | None  # None where NVML cannot say (no permission, some Windows modes)


@dataclass(frozen=True)
class ProcessSample:
    pid: int
    timestamp_us: int  # when the driver took the sample
    sm_util: float
    mem_util: float


@dataclass(frozen=True)
class XidEvent:
    index: int | None  # the device's index, None when NVML does not say
    xid: int


def const_int(nv: Nvml, name: str, default: int | None = None) -> int | None:
    """An NVML constant of the binding (an older nvidia-ml-py may lack it: `default`)."""
    value = nv.const(name, default)
    return int(value) if value is not None else None


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _milli(value: Any) -> float | None:
    return value / 1000.0 if value is not None else None


class GpuDevice:
    """The NVML questions the GPU sampler asks about one device."""

    def __init__(self, nv: Nvml, index: int) -> None:
        self.nv = nv
        self.index = index
        self._temp_call = TEMP_V

    def _dev(self, name: str, *args: Any) -> Any:
        return self.nv.dev(self.index, name, *args)

    # -- static facts ----------------------------------------------------------------------------------
    def static_info(self) -> tuple[GpuInfo, int | None]:
        """The facts read once (GpuInfo), and the architecture as NVML's number (GPM needs Hopper+)."""
        pci_bus_id = self.pci_bus_id()
        mem = self.memory(v2=False)
        limit, default_limit = self.power_limit_w(), self.default_power_limit_w()
        mig, links, arch = self.mig_enabled(), self.nvlink_count(), self.architecture()
        info = GpuInfo(
            index=self.index,
            name=self.name(),
            uuid=self.uuid(),
            pci_bus_id=pci_bus_id,
            memory_total_bytes=mem.total if mem is not None else None,
            max_sm_clock_mhz=self.max_clock_mhz("sm"),
            max_mem_clock_mhz=self.max_clock_mhz("mem"),
            power_limit_w=limit,
            default_power_limit_w=default_limit,
            architecture=arch_name(arch),
            mig_mode=mig,
            nvlink_count=links,
        )
        return info, arch

    def name(self) -> str | None:
        return text(self._dev("nvmlDeviceGetName"))

    def uuid(self) -> str | None:
        return text(self._dev("nvmlDeviceGetUUID"))

    def pci_bus_id(self) -> str | None:
        pci = self._dev("nvmlDeviceGetPciInfo")
        return text(pci.busId) if pci is not None else None

    def architecture(self) -> int | None:
        return _int(self._dev("nvmlDeviceGetArchitecture"))

    def max_clock_mhz(self, clock: Clock) -> int | None:
        cname, default = _CLOCKS[clock]
        return _int(self._dev("nvmlDeviceGetMaxClockInfo", self.nv.const(cname, default)))

    def default_power_limit_w(self) -> float | None:
        return _milli(self._dev("nvmlDeviceGetPowerManagementDefaultLimit"))

    def mig_enabled(self) -> bool | None:
        mig = self._dev("nvmlDeviceGetMigMode")
        return int(mig[0]) == self.nv.const("NVML_DEVICE_MIG_ENABLE", 1) if mig is not None else None

    def nvlink_count(self) -> int | None:
        fid = const_int(self.nv, "NVML_FI_DEV_NVLINK_LINK_COUNT", 91)
        values = self.field_values([(fid or 91, 0)])
        if not values or values[0].ret != 0 or values[0].value is None:
            return None
        return int(values[0].value)

    def supported_event_types(self) -> int:
        return int(self._dev("nvmlDeviceGetSupportedEventTypes") or 0)

    def register_events(self, mask: int, event_set: Any) -> bool:
        """True when this device now reports `mask` events into `event_set`."""
        self._dev("nvmlDeviceRegisterEvents", mask, event_set)
        return (
            self.nv.supported(self.index, "nvmlDeviceRegisterEvents", mask) and self.index not in self.nv.lost
        )

    # -- per tick ---------------------------------------------------------------------------------------
    def utilization(self) -> Utilization | None:
        u = self._dev("nvmlDeviceGetUtilizationRates")
        return Utilization(float(u.gpu), float(u.memory)) if u is not None else None

    def memory(self, *, v2: bool = True) -> Memory | None:
        """v2 memory info where the driver has it: its `used` leaves out the driver's reservation
        (480 MiB on an H100), as nvidia-smi does; v1's `used` counts it. Else (or v2=False) v1."""
        version = self.nv.const("nvmlMemory_v2") if v2 else None
        if version is not None:
            mem = self._dev("nvmlDeviceGetMemoryInfo", version)
            if mem is not None or self.nv.supported(self.index, "nvmlDeviceGetMemoryInfo", version):
                return Memory(int(mem.total), int(mem.used)) if mem is not None else None
        mem = self._dev("nvmlDeviceGetMemoryInfo")
        return Memory(int(mem.total), int(mem.used)) if mem is not None else None

    def clock_mhz(self, clock: Clock) -> float | None:
        cname, default = _CLOCKS[clock]
        return _float(self._dev("nvmlDeviceGetClockInfo", self.nv.const(cname, default)))

    def clock_event_reasons(self) -> int | None:
        return _int(self._dev("nvmlDeviceGetCurrentClocksEventReasons"))

    def power_w(self) -> float | None:
        return _milli(self._dev("nvmlDeviceGetPowerUsage"))

    def power_limit_w(self) -> float | None:
        """The enforced power limit (W)."""
        return _milli(self._dev("nvmlDeviceGetEnforcedPowerLimit"))

    def total_energy_mj(self) -> int | None:
        """The unsigned 64-bit energy counter since the driver loaded (mJ)."""
        return _int(self._dev("nvmlDeviceGetTotalEnergyConsumption"))

    def fan_pct(self) -> float | None:
        return _float(self._dev("nvmlDeviceGetFanSpeed"))

    def temperature_c(self) -> float | None:
        """The GPU sensor: the V call where the driver and binding have it, else the old one."""
        sensor = self.nv.const("NVML_TEMPERATURE_GPU", 0)
        if self._temp_call == TEMP_V:
            t = self._dev(TEMP_V, sensor)
            if t is not None or self.nv.supported(self.index, TEMP_V, sensor):
                return _float(t)
            self._temp_call = TEMP_V1  # an older driver or binding
        return _float(self._dev(TEMP_V1, sensor))

    def field_values(self, requests: list[tuple[int, int]]) -> list[FieldValue] | None:
        """(field id, scope) requests answered in order; None when the call failed as a whole."""
        fvs = self._dev("nvmlDeviceGetFieldValues", requests)
        if fvs is None:
            return None
        out = []
        for fv in fvs:
            ret = int(fv.nvmlReturn)
            out.append(FieldValue(ret, field_value(fv) if ret == 0 else None, int(fv.timestamp)))
        return out

    def field_values_supported(self) -> bool:
        return self.nv.supported(self.index, "nvmlDeviceGetFieldValues")

    def pcie_throughput_bytes_per_s(self, direction: Direction) -> float | None:
        """NVML's 20 ms PCIe throughput sample (KiB/s) in bytes/s."""
        cname, default = _PCIE[direction]
        kbs = self._dev("nvmlDeviceGetPcieThroughput", self.nv.const(cname, default))
        return float(kbs) * 1024 if kbs is not None else None

    # -- processes ---------------------------------------------------------------------------------------
    def running_processes(self, kind: Literal["compute", "graphics"]) -> list[RunningProcess]:
        call = (
            "nvmlDeviceGetComputeRunningProcesses"
            if kind == "compute"
            else "nvmlDeviceGetGraphicsRunningProcesses"
        )
        out = []
        for p in self._dev(call) or ():
            used = getattr(p, "usedGpuMemory", None)
            out.append(RunningProcess(int(p.pid), int(used) if used is not None else None))
        return out

    def process_samples(self, since_us: int) -> list[ProcessSample] | None:
        """The driver's per-process utilisation samples newer than `since_us`; None when there is none
        (NVML answers NOT_FOUND then) or the call failed."""
        samples = self._dev("nvmlDeviceGetProcessUtilization", since_us)
        if not samples:
            return None
        return [
            ProcessSample(int(s.pid), int(s.timeStamp), float(s.smUtil), float(s.memUtil)) for s in samples
        ]


# -- system -------------------------------------------------------------------------------------------
def driver_versions(nv: Nvml) -> tuple[str | None, str | None, int | None]:
    """(driver, NVML, CUDA driver as NVML's int: 12040 is 12.4)."""
    return (
        text(nv.call(-1, "nvmlSystemGetDriverVersion")),
        text(nv.call(-1, "nvmlSystemGetNVMLVersion")),
        _int(nv.call(-1, "nvmlSystemGetCudaDriverVersion")),
    )


def event_set_create(nv: Nvml) -> Any:
    return nv.call(-1, "nvmlEventSetCreate")


def event_set_free(nv: Nvml, event_set: Any) -> None:
    nv.call(-1, "nvmlEventSetFree", event_set)


def event_wait(nv: Nvml, event_set: Any) -> XidEvent | None:
    """The next pending event, without blocking (timeout 0); None when there is none."""
    data = nv.call(-1, "nvmlEventSetWait", event_set, 0)
    if data is None:
        return None
    return XidEvent(_int(nv.call(-1, "nvmlDeviceGetIndex", data.device)), int(data.eventData))
