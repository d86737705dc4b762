"""Disk source: per device throughput, IOPS, busy time and await from /proc/diskstats.

Shown: whole disks, md and dm devices. Skipped: partitions (a name that is
not under /sys/block, or has a `partition` file under /sys/class/block),
loop and ram devices, and any device that has never completed an I/O (an
unused zram or an empty optical drive) until it does.

Counters: sectors and I/O counts are `unsigned long` (64-bit on 64-bit
kernels); the millisecond tick fields are printed as 32-bit and wrap after
about 49.7 days. A counter that goes backwards otherwise is a reset: no
value that tick.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from perftui.core.sanitize import clean
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Values
from perftui.samplers.procfs import U32_MODULUS, ULONG_MODULUS, join, read_int, read_str, read_text

SECTOR_BYTES = 512.0  # /proc/diskstats counts 512-byte sectors whatever the device's block size
_SKIP_PREFIXES = ("loop", "ram")


class DiskCounters(NamedTuple):
    """One device's line of /proc/diskstats: cumulative I/Os, sectors and milliseconds."""

    name: str
    rd_ios: int
    rd_sectors: int
    rd_ticks: int
    wr_ios: int
    wr_sectors: int
    wr_ticks: int
    io_ticks: int


def parse_diskstats(text: str) -> list[DiskCounters]:
    out: list[DiskCounters] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 14:
            continue
        try:
            f = [int(x) for x in parts[3:14]]
        except ValueError:
            continue
        out.append(DiskCounters(parts[2], f[0], f[2], f[3], f[4], f[6], f[7], f[9]))
    return out


class DiskSampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        proc_root: str = "/proc",
        sys_root: str = "/sys",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "disk"
        self.interval = interval
        self._path = join(proc_root, "diskstats")
        self._sys_root = sys_root
        self._clock = clock
        self._rates = RateTracker()
        self._status: SourceStatus | None = None
        self._kinds: dict[str, str | None] = {}  # name -> "disk"/"md"/"dm", None = skipped
        self._info: dict[str, dict[str, Any]] = {}
        self._shown: list[str] = []

    def availability(self) -> SourceStatus:
        if self._status is None:
            try:
                text = read_text(self._path)
            except OSError as exc:
                self._status = SourceStatus.unavailable(f"cannot read {self._path}: {exc.strerror or exc}")
            else:
                self._status = (
                    SourceStatus.ok()
                    if text is not None
                    else SourceStatus.unavailable(f"no {self._path} (not a Linux /proc)")
                )
        return self._status

    def sample(self) -> Values:
        now = self._clock()
        text = read_text(self._path) or ""
        out: Values = {}
        shown: list[str] = []
        for c in parse_diskstats(text):
            if self._kind(c.name) is None or (c.rd_ios == 0 and c.wr_ios == 0):
                continue
            shown.append(c.name)
            out.update(self._device_values(c, now))
        if shown != self._shown:
            gone = set(self._shown) - set(shown)
            for name in gone:
                self._rates.forget(f"{name}\0")
            self._shown = shown
        return out

    def _device_values(self, c: DiskCounters, now: float) -> Values:
        def rate(field: str, value: int, wrap: float = ULONG_MODULUS, scale: float = 1.0) -> float | None:
            return self._rates.rate(f"{c.name}\0{field}", float(value), now, wrap=wrap, scale=scale)

        p = f"disk.{clean(c.name)}."  # device-mapper and md names are the user's: shown clean
        r_ios = rate("rd_ios", c.rd_ios)
        w_ios = rate("wr_ios", c.wr_ios)
        r_ticks = rate("rd_ticks", c.rd_ticks, U32_MODULUS, 1e-3)
        w_ticks = rate("wr_ticks", c.wr_ticks, U32_MODULUS, 1e-3)
        busy = rate("io_ticks", c.io_ticks, U32_MODULUS, 0.1)  # ms per s -> %
        await_s = None
        if None not in (r_ios, w_ios, r_ticks, w_ticks):
            ios = (r_ios or 0.0) + (w_ios or 0.0)
            if ios > 0:
                await_s = ((r_ticks or 0.0) + (w_ticks or 0.0)) / ios
        return {
            p + "read_bytes_per_s": rate("rd_sectors", c.rd_sectors, scale=SECTOR_BYTES),
            p + "write_bytes_per_s": rate("wr_sectors", c.wr_sectors, scale=SECTOR_BYTES),
            p + "read_iops": r_ios,
            p + "write_iops": w_ios,
            p + "busy_pct": None if busy is None else min(100.0, busy),
            p + "await_s": await_s,
        }

    def _kind(self, name: str) -> str | None:
        if name in self._kinds:
            return self._kinds[name]
        kind = self._classify(name)
        self._kinds[name] = kind
        if kind is not None:
            self._info[name] = self._describe(name, kind)
        return kind

    def _classify(self, name: str) -> str | None:
        if name.startswith(_SKIP_PREFIXES):
            return None
        sys_name = name.replace("/", "!")
        block = join(self._sys_root, "block")
        if os.path.isdir(block):
            if not os.path.exists(join(block, sys_name)):
                return None  # a partition: only whole devices are listed in /sys/block
        elif os.path.exists(join(self._sys_root, "class", "block", sys_name, "partition")):
            return None
        if name.startswith("md"):
            return "md"
        if name.startswith("dm-"):
            return "dm"
        return "disk"

    def _describe(self, name: str, kind: str) -> dict[str, Any]:
        base = join(self._sys_root, "block", name.replace("/", "!"))
        info: dict[str, Any] = {"name": clean(name), "kind": kind}
        model = read_str(join(base, "device", "model"))
        if model:
            info["model"] = clean(model)
        rotational = read_int(join(base, "queue", "rotational"))
        if rotational is not None:
            info["rotational"] = bool(rotational)
        if kind == "dm":
            dm_name = read_str(join(base, "dm", "name"))
            if dm_name:
                info["dm_name"] = clean(dm_name)
        return info

    def details(self) -> Mapping[str, Any]:
        return {"disk.devices": [dict(self._info[n]) for n in self._shown if n in self._info]}
