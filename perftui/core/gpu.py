"""Pure GPU helpers shared by the sampler, the UI and the diagnosis (no NVML, no I/O).

- clock-event reasons: NVML's bitmask decoded to stable names;
- tiers: which counters a GPU's numbers come from, and the confidence they allow;
- GpuInfo: the static facts read once per device, as a JSON-able dict;
- per-process GPU use filtered to an attached process tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

# NVML clocks-event reason bits (nvmlClocksEventReason*), in bit order.
CLOCK_EVENT_BITS: tuple[tuple[int, str], ...] = (
    (0x1, "idle"),
    (0x2, "app_clocks"),
    (0x4, "power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal"),
    (0x40, "hw_thermal"),
    (0x80, "power_brake"),
    (0x100, "display_clocks"),
)

CLOCK_EVENT_LABELS: dict[str, str] = {
    "idle": "GPU idle",
    "app_clocks": "application clocks setting",
    "power_cap": "power cap",
    "hw_slowdown": "HW slowdown",
    "sync_boost": "sync boost",
    "sw_thermal": "SW thermal slowdown",
    "hw_thermal": "HW thermal slowdown",
    "power_brake": "HW power brake",
    "display_clocks": "display clock setting",
}

# Reasons that mean the work is slowed by power or heat (not idle, not a user setting).
THROTTLE_MASK = 0x4 | 0x8 | 0x20 | 0x40 | 0x80


def decode_clock_events(mask: int) -> list[str]:
    """Bitmask -> names in bit order; unknown bits show as `bit_0x...`."""
    names = [name for bit, name in CLOCK_EVENT_BITS if mask & bit]
    known = 0
    for bit, _ in CLOCK_EVENT_BITS:
        known |= bit
    rest = mask & ~known
    bit = 1
    while rest:
        if rest & bit:
            names.append(f"bit_0x{bit:x}")
            rest &= ~bit
        bit <<= 1
    return names


# The names of those reasons, as the sampler publishes them in `gpu.<i>.clock_events`: what the panels
# and the diagnosis compare against (one set of names, never NVML's "SwPowerCap" spelling).
THROTTLE_EVENTS: frozenset[str] = frozenset(decode_clock_events(THROTTLE_MASK))


def throttle_events(names: Iterable[str]) -> list[str]:
    """The names among `names` that mean clocks are lowered by power or heat, in the given order."""
    return [n for n in names if n in THROTTLE_EVENTS]


def is_throttled(mask: int) -> bool:
    return bool(mask & THROTTLE_MASK)


def clock_event_labels(names: Iterable[str]) -> list[str]:
    return [CLOCK_EVENT_LABELS.get(n, n) for n in names]


# -- tiers -----------------------------------------------------------------
Tier = Literal["gpm", "nvml", "lost"]
TIERS: tuple[Tier, ...] = ("gpm", "nvml", "lost")

TIER_LABELS: dict[str, str] = {
    "gpm": "GPM counters (SM active, occupancy, tensor, DRAM BW)",
    "nvml": "NVML basics (utilization is a time fraction)",
    "lost": "GPU lost",
}


def tier_confidence(tier: str | None) -> Literal["high", "low"] | None:
    """What a verdict on this GPU may claim: GPM counters -> high, NVML basics -> low."""
    if tier == "gpm":
        return "high"
    if tier == "nvml":
        return "low"
    return None


# -- architecture ----------------------------------------------------------
# nvmlDeviceArchitecture_t values (NVML_DEVICE_ARCH_*).
ARCH_NAMES: dict[int, str] = {
    2: "Kepler",
    3: "Maxwell",
    4: "Pascal",
    5: "Volta",
    6: "Turing",
    7: "Ampere",
    8: "Ada",
    9: "Hopper",
    10: "Blackwell",
    13: "Rubin",
}
ARCH_HOPPER = 9


def arch_name(arch: int | None) -> str | None:
    if arch is None:
        return None
    return ARCH_NAMES.get(arch, f"unknown ({arch})")


@dataclass(frozen=True)
class GpuInfo:
    """Static facts of one GPU, read once. Absent facts are None."""

    index: int
    name: str | None = None
    uuid: str | None = None
    pci_bus_id: str | None = None
    memory_total_bytes: int | None = None
    max_sm_clock_mhz: int | None = None
    max_mem_clock_mhz: int | None = None
    power_limit_w: float | None = None
    default_power_limit_w: float | None = None  # the board's own; a lower enforced limit was set by someone
    architecture: str | None = None
    mig_mode: bool | None = None
    nvlink_count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GpuInfo:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def driver_dict(driver: str | None, nvml: str | None, cuda_driver: int | None) -> dict[str, Any]:
    """`gpu.driver` detail; the CUDA driver version int 12040 reads '12.4'."""
    cuda = None
    if cuda_driver is not None and cuda_driver > 0:
        cuda = f"{cuda_driver // 1000}.{(cuda_driver % 1000) // 10}"
    return {"driver": driver, "nvml": nvml, "cuda_driver": cuda}


# -- per process -----------------------------------------------------------
def processes_for_pids(
    store_detail: Sequence[Mapping[str, Any]] | None, pids: Iterable[int]
) -> list[dict[str, Any]]:
    """Entries of the `gpu.processes` detail whose host pid is one of `pids`."""
    wanted = set(pids)
    if not store_detail:
        return []
    return [dict(e) for e in store_detail if e.get("pid") in wanted]


def usage_for_pids(
    store_detail: Sequence[Mapping[str, Any]] | None, pids: Iterable[int]
) -> tuple[float | None, float | None]:
    """(GPU memory bytes summed over GPUs, summed SM util %) of a process tree; None when unknown."""
    entries = processes_for_pids(store_detail, pids)
    mem = [e["used_bytes"] for e in entries if e.get("used_bytes") is not None]
    sm = [e["sm_util"] for e in entries if e.get("sm_util") is not None]
    return (float(sum(mem)) if mem else None, float(sum(sm)) if sm else None)
