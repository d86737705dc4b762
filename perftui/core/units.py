"""Units stored in SI and their human formatting.

Storage is always SI (bytes, bytes/s, seconds, watts, hertz as MHz for clocks
because that is how every GPU tool speaks); humans read GiB, MB/s, %, W, °C.
"""

from __future__ import annotations

import math
import re
from enum import Enum


class Unit(str, Enum):
    PERCENT = "%"
    BYTES = "B"
    BYTES_PER_S = "B/s"
    PER_S = "/s"
    WATTS = "W"
    JOULES = "J"
    CELSIUS = "°C"
    MHZ = "MHz"
    SECONDS = "s"
    COUNT = ""
    RATIO = "ratio"
    FLAGS = "flags"
    TFLOPS = "TFLOP/s"


_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_DECIMAL_RATE = ("B/s", "kB/s", "MB/s", "GB/s", "TB/s")


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_bytes(value: float) -> str:
    """Bytes in binary units: 1536 -> '1.5 KiB'."""
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    idx = 0
    while v >= 1024 and idx < len(_BINARY) - 1:
        v /= 1024
        idx += 1
    if idx == 0:
        return f"{sign}{v:.0f} B"
    return f"{sign}{v:.1f} {_BINARY[idx]}" if v < 100 else f"{sign}{v:.0f} {_BINARY[idx]}"


def format_rate_bytes(value: float) -> str:
    """Byte rates in decimal units, as network and disk tools show them."""
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    idx = 0
    while v >= 1000 and idx < len(_DECIMAL_RATE) - 1:
        v /= 1000
        idx += 1
    if idx == 0:
        return f"{sign}{v:.0f} B/s"
    return f"{sign}{v:.1f} {_DECIMAL_RATE[idx]}" if v < 100 else f"{sign}{v:.0f} {_DECIMAL_RATE[idx]}"


def format_count(value: float) -> str:
    """Plain counts with k/M suffixes: 12345 -> '12.3k'."""
    v = float(value)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.1f}{suffix}"
    if v == int(v):
        return f"{int(v)}"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def format_seconds(value: float) -> str:
    v = float(value)
    if v == 0:
        return "0 s"
    if abs(v) < 1e-3:
        return f"{v * 1e6:.0f} µs"
    if abs(v) < 1:
        return f"{v * 1e3:.1f} ms"
    return f"{v:.2f} s"


def format_value(value: float | None, unit: Unit) -> str:
    """One value for a human; '—' for a missing one (never a fake 0)."""
    if _is_missing(value):
        return "—"
    assert value is not None
    if unit is Unit.PERCENT:
        return f"{value:.0f} %" if abs(value) >= 10 else f"{value:.1f} %"
    if unit is Unit.BYTES:
        return format_bytes(value)
    if unit is Unit.BYTES_PER_S:
        return format_rate_bytes(value)
    if unit is Unit.PER_S:
        return f"{format_count(value)}/s"
    if unit is Unit.WATTS:
        return f"{value:.0f} W" if abs(value) >= 10 else f"{value:.1f} W"
    if unit is Unit.JOULES:
        return f"{format_count(value)} J"
    if unit is Unit.CELSIUS:
        return f"{value:.0f} °C"
    if unit is Unit.MHZ:
        return f"{value:.0f} MHz"
    if unit is Unit.SECONDS:
        return format_seconds(value)
    if unit is Unit.RATIO:
        return f"{value:.2f}"
    if unit is Unit.FLAGS:
        return f"0x{int(value):x}"
    if unit is Unit.TFLOPS:
        return f"{value:.0f} TFLOP/s" if abs(value) >= 100 else f"{value:.1f} TFLOP/s"
    return format_count(value)


def natural_key(key: str) -> list[int | str]:
    """Sort key that orders the numbers inside names by value: cpu.core.2 before cpu.core.10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]
