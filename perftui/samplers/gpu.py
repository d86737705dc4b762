"""The GPU source: every NVIDIA GPU through NVML, with the GPM tier where the GPU has it.

One sampler named "gpu" covers all GPUs. Metric keys are `gpu.<i>.<name>`
(perftui/core/specs_gpu.py). Details for the store:

- `gpu.count`, `gpu.driver` {driver, nvml, cuda_driver}, `gpu.<i>.info` (GpuInfo.as_dict());
- `gpu.<i>.tier` in {"gpm", "nvml", "lost"} and `gpu.<i>.tier_reason`;
- `gpu.<i>.clock_events` (decoded names), `gpu.<i>.gpm_metrics` (GPM metrics this GPU gives),
  `gpu.<i>.absent` (NVML calls this GPU does not support), `gpu.<i>.xid_last`;
- `gpu.processes`: [{gpu, pid, used_bytes, sm_util, mem_util, type, container_pid}].
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from perftui.core.details import GpuProcessDetail
from perftui.core.gpu import (
    GpuInfo,
    decode_clock_events,
    driver_dict,
    is_throttled,
    processes_for_pids,
    usage_for_pids,
)
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Sampler, Values
from perftui.samplers.gpu_flops import FlopsEstimator
from perftui.samplers.gpu_gpm import GpmTier, gpm_support
from perftui.samplers.gpu_nvml import (
    Clock,
    Direction,
    GpuDevice,
    const_int,
    driver_versions,
    event_set_create,
    event_set_free,
    event_wait,
)
from perftui.samplers.gpu_processes import ProcessTracker
from perftui.samplers.nvml import PERMANENT_ERRORS, Nvml

__all__ = ["GpuSampler", "gpu_samplers", "processes_for_pids", "usage_for_pids"]

ALL_LINKS = 0xFFFFFFFF
KIB = 1024
ENERGY_WRAP = 2**64  # nvmlDeviceGetTotalEnergyConsumption is an unsigned 64-bit mJ counter
# Measured on an H100 (driver 580): nvmlDeviceGetTotalEnergyConsumption took 4.7 ms a call, more than
# every other per-tick call together. Energy is a counter, so reading it every 5 s loses no joule:
# the mean power over those 5 s is exact, only its time resolution is coarser (power_w has 1 s).
ENERGY_PERIOD_S = 5.0
# The PCIe byte counter fields are 32-bit (valueType unsigned int): read at 20 Hz on an H100 during
# 9.5 GB/s host->device copies they wrapped every ~0.45 s. A backward step is one wrap; more than
# 4 GiB moved within one interval aliases and reads low, which only the GPM tier (Hopper+) avoids.
PCIE_WRAP = 2**32

KEYS: tuple[str, ...] = (
    "util",
    "mem_util",
    "mem_used_bytes",
    "mem_total_bytes",
    "mem_used_pct",
    "sm_clock_mhz",
    "mem_clock_mhz",
    "clock_event_reasons",
    "throttled",
    "power_w",
    "power_limit_w",
    "energy_avg_w",
    "temp_c",
    "fan_pct",
    "pcie_tx_bytes_per_s",
    "pcie_rx_bytes_per_s",
    "nvlink_tx_bytes_per_s",
    "nvlink_rx_bytes_per_s",
    "ecc_corrected",
    "ecc_uncorrected",
    "xid_events",
)


class _Gpu:
    """State of one device."""

    def __init__(self, dev: GpuDevice) -> None:
        self.dev = dev
        index = self.index = dev.index
        self.prefix = f"gpu.{index}."
        self.k = {name: self.prefix + name for name in KEYS}
        self.tier = "nvml"
        self.tier_reason = ""
        self.gpm: GpmTier | None = None
        self.flops: FlopsEstimator | None = None  # achieved TFLOP/s from GPM (known models only)
        self.fields: list[tuple[int, int]] = []
        self.field_keys: dict[tuple[int, int], str] = {}
        self.pcie_counters = False
        self.pcie_from_gpm = False  # the GPM tier measures PCIe itself: no counter fields, no fallback
        self.energy_next = 0.0
        self.xid_count: int | None = None
        self.xid_last: dict[str, Any] | None = None
        self.absent: list[str] = []


class GpuSampler(BaseSampler):
    name = "gpu"

    def __init__(
        self,
        interval: float = 1.0,
        nvml: ModuleType | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timed: bool = False,
        processes: bool = True,
        energy_period_s: float = ENERGY_PERIOD_S,
    ) -> None:
        self.interval = interval
        self.energy_period_s = energy_period_s
        self.nv = Nvml(nvml, timed=timed)
        self._clock = clock
        self._status: SourceStatus | None = None
        self._gpus: list[_Gpu] = []
        self._rates = RateTracker()
        self._details: dict[str, Any] = {}
        self._procs = ProcessTracker(self.nv, keep_s=max(5.0, 3 * interval)) if processes else None
        self._event_set: Any = None
        self._absent_seen = -1

    # -- protocol ----------------------------------------------------------
    def availability(self) -> SourceStatus:
        if self._status is None:
            self._status = self.nv.init()
            if self._status.available:
                self._setup()
        return self._status

    def details(self) -> Mapping[str, Any]:
        return dict(self._details)

    def close(self) -> None:
        for g in self._gpus:
            if g.gpm is not None:
                g.gpm.close()
                g.gpm = None
        if self._event_set is not None:
            event_set_free(self.nv, self._event_set)
            self._event_set = None
        self.nv.shutdown()

    def sample(self) -> Values:
        if not self.availability().available:
            return {}
        now = self._clock()
        out: Values = {}
        self._poll_events()
        procs: list[GpuProcessDetail] = []
        for g in self._gpus:
            if g.tier == "lost":
                continue
            values = self._sample_gpu(g, now)
            if self._procs is not None and g.index not in self.nv.lost:
                procs.extend(self._procs.sample(g.index, now))
            if g.index in self.nv.lost:
                self._mark_lost(g)
                procs = [p for p in procs if p["gpu"] != g.index]
                continue
            out.update(values)
        if self._procs is not None:
            self._details["gpu.processes"] = procs
        if len(self.nv.unsupported) != self._absent_seen:
            self._absent_seen = len(self.nv.unsupported)
            for g in self._gpus:
                names = sorted({name for (i, name, _) in self.nv.unsupported if i == g.index})
                self._details[g.prefix + "absent"] = names
        return out

    # -- setup -------------------------------------------------------------
    def _setup(self) -> None:
        nv = self.nv
        self._details["gpu.count"] = nv.count
        self._details["gpu.driver"] = driver_dict(*driver_versions(nv))
        self._gpus = [_Gpu(GpuDevice(nv, i)) for i in range(nv.count)]
        for g in self._gpus:
            if g.index in nv.lost:
                self._mark_lost(g)
                continue
            info, arch = g.dev.static_info()
            if g.index in nv.lost:  # lost while reading its facts: publish none of them
                self._mark_lost(g)
                continue
            self._details[g.prefix + "info"] = info.as_dict()
            self._setup_fields(g, info)
            self._setup_tier(g, info, arch)
            g.flops = FlopsEstimator.for_gpu(info.name, g.prefix) if g.gpm is not None else None
            if g.gpm is not None and any("pcie" in key for _, key, _ in g.gpm.metrics):
                # GPM counts PCIe bytes over the whole interval. The counter fields were seen to wrap
                # within one 0.5 s tick at 8 GB/s on an H100 (22 of 30 rates lost): not used then.
                g.pcie_from_gpm = True
                g.fields = [f for f in g.fields if not g.field_keys[f].startswith("pcie")]
            if g.index in nv.lost:
                self._mark_lost(g)
        self._setup_events()

    def _setup_fields(self, g: _Gpu, info: GpuInfo) -> None:
        def c(name: str) -> int | None:
            return const_int(self.nv, name)

        wanted = [
            (c("NVML_FI_DEV_PCIE_COUNT_TX_BYTES"), 0, "pcie_tx"),
            (c("NVML_FI_DEV_PCIE_COUNT_RX_BYTES"), 0, "pcie_rx"),
            (c("NVML_FI_DEV_ECC_SBE_VOL_TOTAL"), 0, "ecc_corrected"),
            (c("NVML_FI_DEV_ECC_DBE_VOL_TOTAL"), 0, "ecc_uncorrected"),
        ]
        if info.nvlink_count != 0:  # unknown or > 0: ask, with the all-links scope
            wanted += [
                (c("NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX"), ALL_LINKS, "nvlink_tx"),
                (c("NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX"), ALL_LINKS, "nvlink_rx"),
            ]
        for fid, scope, name in wanted:
            if fid is not None:
                g.fields.append((fid, scope))
                g.field_keys[(fid, scope)] = name
        g.pcie_counters = True

    def _setup_tier(self, g: _Gpu, info: GpuInfo, arch: int | None) -> None:
        ok, reason = gpm_support(self.nv, g.index, arch, info.mig_mode)
        if ok:
            gpm = GpmTier(self.nv, g.index, g.prefix)
            if gpm.failed is None:
                g.gpm = gpm
            else:
                ok, reason = False, gpm.failed
        self._set_tier(g, "gpm" if ok else "nvml", reason)

    def _setup_events(self) -> None:
        nv = self.nv
        xid = const_int(nv, "nvmlEventTypeXidCriticalError")
        if xid is None or not nv.has("nvmlEventSetCreate"):
            return
        live = [g for g in self._gpus if g.tier != "lost"]
        supported = [g for g in live if g.dev.supported_event_types() & xid]
        if not supported:
            return
        es = event_set_create(nv)
        if es is None:
            return
        self._event_set = es
        for g in supported:
            if g.dev.register_events(xid, es):
                g.xid_count = 0

    def _set_tier(self, g: _Gpu, tier: str, reason: str) -> None:
        g.tier, g.tier_reason = tier, reason
        self._details[g.prefix + "tier"] = tier
        self._details[g.prefix + "tier_reason"] = reason

    def _mark_lost(self, g: _Gpu) -> None:
        if g.gpm is not None:
            g.gpm.close()
            g.gpm = None
        self._set_tier(g, "lost", self.nv.lost.get(g.index, "GPU is lost"))
        for suffix in ("clock_events", "gpm_metrics"):
            self._details.pop(g.prefix + suffix, None)
        self._rates.forget(g.prefix)

    # -- per tick ------------------------------------------------------------
    def _poll_events(self) -> None:
        es = self._event_set
        if es is None:
            return
        for _ in range(64):  # drain what is pending, never block (timeout 0)
            event = event_wait(self.nv, es)
            if event is None:
                return
            if event.index is None or not 0 <= event.index < len(self._gpus):
                continue
            g = self._gpus[event.index]
            g.xid_count = (g.xid_count or 0) + 1
            g.xid_last = {"xid": event.xid, "time": time.time()}
            self._details[g.prefix + "xid_last"] = g.xid_last

    def _sample_gpu(self, g: _Gpu, now: float) -> Values:
        dev, k = g.dev, g.k
        out: Values = {}
        u = dev.utilization()
        if u is not None:
            out[k["util"]] = u.gpu
            out[k["mem_util"]] = u.memory
        mem = dev.memory()
        if mem is not None:
            out[k["mem_used_bytes"]] = float(mem.used)
            out[k["mem_total_bytes"]] = float(mem.total)
            if mem.total:
                out[k["mem_used_pct"]] = 100.0 * mem.used / mem.total
        clocks: tuple[tuple[str, Clock], ...] = (("sm_clock_mhz", "sm"), ("mem_clock_mhz", "mem"))
        for key, clock in clocks:
            mhz = dev.clock_mhz(clock)
            if mhz is not None:
                out[k[key]] = mhz
        mask = dev.clock_event_reasons()
        if mask is not None:
            out[k["clock_event_reasons"]] = float(mask)
            out[k["throttled"]] = 1.0 if is_throttled(mask) else 0.0
            self._details[g.prefix + "clock_events"] = decode_clock_events(mask)
        power = dev.power_w()
        if power is not None:
            out[k["power_w"]] = power
        limit = dev.power_limit_w()
        if limit is not None:
            out[k["power_limit_w"]] = limit
        if now >= g.energy_next:
            g.energy_next = now + self.energy_period_s - 1e-6
            energy = dev.total_energy_mj()
            if energy is not None:
                out[k["energy_avg_w"]] = self._rates.rate(
                    k["energy_avg_w"], energy, now, wrap=ENERGY_WRAP, scale=1e-3
                )
        out[k["temp_c"]] = dev.temperature_c()
        fan = dev.fan_pct()
        if fan is not None:
            out[k["fan_pct"]] = fan
        self._sample_fields(g, now, out)
        if g.xid_count is not None:
            out[k["xid_events"]] = float(g.xid_count)
        if g.gpm is not None:
            gv = g.gpm.sample(now)
            if gv is None:  # GPM failed for good: fall back to NVML basics, say why
                reason = g.gpm.failed or "GPM failed"
                g.gpm.close()
                g.gpm = None
                self._set_tier(g, "nvml", reason)
            else:
                out.update(gv)
                self._details[g.prefix + "gpm_metrics"] = g.gpm.supported_metrics
                if g.flops is not None:
                    g.flops.apply(out)
        return out

    def _sample_fields(self, g: _Gpu, now: float, out: Values) -> None:
        dev = g.dev
        if g.fields:
            fvs = dev.field_values(g.fields)
            if fvs is not None:
                drop = []
                for fv, req in zip(fvs, g.fields, strict=False):
                    if fv.ret != 0:
                        if fv.ret in PERMANENT_ERRORS:
                            drop.append(req)
                        continue
                    if fv.value is None:
                        continue
                    ts = fv.timestamp_us / 1e6 if fv.timestamp_us > 0 else now
                    self._field(g, g.field_keys[req], int(fv.value), ts, out)
                if drop:
                    g.fields = [f for f in g.fields if f not in drop]
            elif not dev.field_values_supported():
                g.fields = []
        if g.pcie_from_gpm:
            return
        if g.pcie_counters and not any(f for f in g.fields if g.field_keys[f].startswith("pcie")):
            g.pcie_counters = False  # no PCIe byte counters: use the throughput call
        if not g.pcie_counters:
            directions: tuple[Direction, ...] = ("tx", "rx")
            for direction in directions:
                bps = dev.pcie_throughput_bytes_per_s(direction)
                if bps is not None:
                    out[g.k[f"pcie_{direction}_bytes_per_s"]] = bps

    def _field(self, g: _Gpu, name: str, value: int, ts: float, out: Values) -> None:
        k = g.k
        if name == "ecc_corrected" or name == "ecc_uncorrected":
            out[k[name]] = float(value)
        elif name in ("pcie_tx", "pcie_rx"):
            key = k[name + "_bytes_per_s"]
            out[key] = self._rates.rate(key, value, ts, wrap=PCIE_WRAP, never_resets=True)
        elif name in ("nvlink_tx", "nvlink_rx"):
            key = k[name + "_bytes_per_s"]
            out[key] = self._rates.rate(key, value, ts, scale=KIB)


def gpu_samplers(
    interval: float, nvml: ModuleType | None = None, *, energy_period_s: float = ENERGY_PERIOD_S
) -> list[Sampler]:
    """The "gpu" sampler over all GPUs; `nvml` injects a fake pynvml (tests), None = the real one."""
    return [GpuSampler(interval, nvml, energy_period_s=energy_period_s)]
