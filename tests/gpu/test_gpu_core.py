"""Pure GPU helpers: clock-event decoding, tiers, GpuInfo, per-pid filtering."""

from __future__ import annotations

import json
from typing import Any

import pynvml

from perftui.core.gpu import (
    CLOCK_EVENT_BITS,
    GpuInfo,
    decode_clock_events,
    driver_dict,
    is_throttled,
    processes_for_pids,
    tier_confidence,
    usage_for_pids,
)


def test_clock_event_bits_are_nvmls() -> None:
    real = {
        0x1: pynvml.nvmlClocksEventReasonGpuIdle,
        0x4: pynvml.nvmlClocksEventReasonSwPowerCap,
        0x8: pynvml.nvmlClocksEventReasonHwSlowdown,
        0x10: pynvml.nvmlClocksEventReasonSyncBoost,
        0x20: pynvml.nvmlClocksEventReasonSwThermalSlowdown,
        0x40: pynvml.nvmlClocksEventReasonHwThermalSlowdown,
        0x80: pynvml.nvmlClocksEventReasonHwPowerBrakeSlowdown,
    }
    assert all(bit == value for bit, value in real.items())
    assert [b for b, _ in CLOCK_EVENT_BITS] == sorted(b for b, _ in CLOCK_EVENT_BITS)


def test_decode_clock_events() -> None:
    assert decode_clock_events(0) == []
    assert decode_clock_events(0x1) == ["idle"]
    assert decode_clock_events(0x4 | 0x40) == ["power_cap", "hw_thermal"]
    assert decode_clock_events(0x10 | 0x80) == ["sync_boost", "power_brake"]
    assert decode_clock_events(0x800 | 0x8) == ["hw_slowdown", "bit_0x800"]


def test_throttled_only_for_power_thermal_and_hardware_reasons() -> None:
    assert not is_throttled(0x1)  # idle
    assert not is_throttled(0x10)  # sync boost
    assert not is_throttled(0x2)  # application clocks
    for bit in (0x4, 0x8, 0x20, 0x40, 0x80):
        assert is_throttled(bit | 0x1)


def test_tier_confidence() -> None:
    assert tier_confidence("gpm") == "high"
    assert tier_confidence("nvml") == "low"
    assert tier_confidence("lost") is None
    assert tier_confidence(None) is None


def test_gpu_info_round_trips_through_json() -> None:
    info = GpuInfo(
        0, "NVIDIA H100", "GPU-1", "00000000:18:00.0", 80 << 30, 1980, 2619, 700.0, "Hopper", False, 18
    )
    d = json.loads(json.dumps(info.as_dict()))
    assert GpuInfo.from_dict(d) == info
    assert GpuInfo.from_dict({"index": 3, "unknown_future_key": 1}) == GpuInfo(3)


def test_driver_dict_formats_cuda_version() -> None:
    assert driver_dict("550.54.15", "12.550.54.15", 12040) == {
        "driver": "550.54.15",
        "nvml": "12.550.54.15",
        "cuda_driver": "12.4",
    }
    assert driver_dict(None, None, None)["cuda_driver"] is None


def test_processes_for_pids_and_usage() -> None:
    detail: list[dict[str, Any]] = [
        {"gpu": 0, "pid": 10, "used_bytes": 1000, "sm_util": 30.0, "mem_util": 5.0, "type": "compute"},
        {"gpu": 1, "pid": 10, "used_bytes": 500, "sm_util": None, "mem_util": None, "type": "compute"},
        {"gpu": 0, "pid": 11, "used_bytes": 7, "sm_util": 50.0, "mem_util": 1.0, "type": "graphics"},
    ]
    assert [e["gpu"] for e in processes_for_pids(detail, [10])] == [0, 1]
    assert processes_for_pids(None, [10]) == []
    assert usage_for_pids(detail, {10}) == (1500.0, 30.0)
    assert usage_for_pids(detail, {10, 11}) == (1507.0, 80.0)
    assert usage_for_pids(detail, {99}) == (None, None)
