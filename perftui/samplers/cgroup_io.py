"""A cgroup's I/O limits and its use of them, per block device (pure parsers and the file reads).

v2: `io.max` holds one line per device with a limit, `MAJ:MIN rbps=N wbps=max riops=max wiops=N`
("max" = no limit of that kind); the use is `io.stat` (rbytes, wbytes, rios, wios per device).
v1: `blkio.throttle.{read,write}_{bps,iops}_device` hold `MAJ:MIN N` per device; the use is
`blkio.throttle.io_service_bytes` (bytes) and `blkio.throttle.io_serviced` (operations), both
`MAJ:MIN Read|Write N` per device.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache

from perftui.core.cgroup_io import KINDS

# what a person calls each limit ("its 10 MB/s write limit", "its 100 IOPS read limit")
KIND_WORDS = {"rbps": "read", "wbps": "write", "riops": "read IOPS", "wiops": "write IOPS"}
_IO_STAT = {"rbytes": "rbps", "wbytes": "wbps", "rios": "riops", "wios": "wiops"}

IoLimits = dict[str, dict[str, float]]  # device "MAJ:MIN" -> kind -> limit (bytes/s or IOPS)
IoUse = dict[str, dict[str, float]]  # device -> kind -> cumulative counter (bytes or operations)


def parse_io_max(text: str | None) -> IoLimits:
    """v2 io.max -> the limits that are set (a device whose limits are all "max" is left out)."""
    out: IoLimits = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts or ":" not in parts[0]:
            continue
        lim: dict[str, float] = {}
        for item in parts[1:]:
            k, _, v = item.partition("=")
            if k in KINDS and v.isdigit() and int(v) > 0:
                lim[k] = float(v)
        if lim:
            out[parts[0]] = lim
    return out


def parse_v1_throttle(text: str | None) -> dict[str, float]:
    """One v1 blkio.throttle.*_device file -> {device: limit} (0 or absent = no limit)."""
    out: dict[str, float] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and ":" in parts[0] and parts[1].isdigit() and int(parts[1]) > 0:
            out[parts[0]] = float(parts[1])
    return out


def merge_v1(files: dict[str, str | None]) -> IoLimits:
    """The four v1 throttle files (kind -> text) -> limits per device."""
    out: IoLimits = {}
    for kind, text in files.items():
        for dev, v in parse_v1_throttle(text).items():
            out.setdefault(dev, {})[kind] = v
    return out


def parse_io_stat_devices(text: str | None, devices: set[str]) -> IoUse:
    """v2 io.stat -> the cumulative counters of the given devices."""
    out: IoUse = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts or parts[0] not in devices:
            continue
        use: dict[str, float] = {}
        for item in parts[1:]:
            k, _, v = item.partition("=")
            kind = _IO_STAT.get(k)
            if kind is not None and v.isdigit():
                use[kind] = float(v)
        out[parts[0]] = use
    return out


def parse_blkio_devices(text: str | None, devices: set[str], read: str, write: str, into: IoUse) -> None:
    """v1 io_service_bytes / io_serviced (`MAJ:MIN Read N`) -> `into[dev][read|write]` for the devices."""
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in devices and parts[2].isdigit():
            if parts[1] == "Read":
                into.setdefault(parts[0], {})[read] = float(parts[2])
            elif parts[1] == "Write":
                into.setdefault(parts[0], {})[write] = float(parts[2])


def has_iops(limits: IoLimits) -> bool:
    return any("riops" in lim or "wiops" in lim for lim in limits.values())


@cache
def device_name(dev: str, sys_root: str = "/sys") -> str:
    """`254:0` -> `254:0 (vda)` where /sys names the device, else the number alone."""
    try:
        name = os.path.basename(os.readlink(f"{sys_root}/dev/block/{dev}"))
    except OSError:
        return dev
    return f"{dev} ({name})" if name and name.isprintable() else dev


def limit_values(
    prefix: str, limits: IoLimits, use: IoUse, rate: Callable[[str, float], float | None]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Per kind of limit: `io_<kind>_limit` (the limit) and `io_<kind>_limit_pct` (use as % of it)
    on the device nearest its limit, and which device that is ({kind: "MAJ:MIN"}). Every limited
    device's counters advance their rates, so a device taking the lead has its rate at once."""
    out: dict[str, float | None] = {}
    where: dict[str, str] = {}
    for kind in KINDS:
        best: tuple[float, float, str, float | None] | None = None  # (share, -limit, dev, pct)
        for dev, lim in limits.items():
            cap = lim.get(kind)
            if cap is None:
                continue
            counter = use.get(dev, {}).get(kind)
            r = rate(f"{prefix}io{dev}{kind}", counter) if counter is not None else None
            pct = None if r is None else 100.0 * r / cap
            key = (pct if pct is not None else -1.0, -cap, dev, pct)
            if best is None or key[:2] > best[:2]:
                best = key
        if best is not None:
            out[f"{prefix}io_{kind}_limit"] = -best[1]
            out[f"{prefix}io_{kind}_limit_pct"] = best[3]
            where[kind] = best[2]
    return out, where


def use_share(limits: IoLimits, prev: IoUse, cur: IoUse, dt: float) -> float:
    """The highest use of any limit between two reads, as a share of it (the box-wide ranking)."""
    top = 0.0
    for dev, lim in limits.items():
        for kind, cap in lim.items():
            a, b = prev.get(dev, {}).get(kind), cur.get(dev, {}).get(kind)
            if a is not None and b is not None and b >= a and dt > 0:
                top = max(top, (b - a) / dt / cap)
    return top
