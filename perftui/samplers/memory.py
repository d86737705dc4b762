"""Memory source: usage, page cache, swap and swap traffic, major faults.

Read from /proc/meminfo and /proc/vmstat under `proc_root` (two small reads
per tick), with psutil's definitions:
- used = MemTotal - MemAvailable (what is gone without swapping), not
  total - free - buffers - cache;
- cached = Cached + SReclaimable (page cache plus reclaimable slab).

Swap in/out are `pswpin`/`pswpout` pages × the kernel's page size. psutil's
`swap_memory().sin/sout` is not used: it assumes 4 KiB pages (wrong on the
64 KiB-page arm64 kernels of some GPU servers) and reports 0 when
/proc/vmstat cannot be read.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Values
from perftui.samplers.procfs import ULONG_MODULUS, join, parse_kv, read_text

_VMSTAT_KEYS = frozenset({"pswpin", "pswpout", "pgmajfault"})


def _page_size() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4096


# `Name:   123 kB` (or a bare count): one regex scan in C, not a Python loop over ~55 lines
_MEMINFO_LINE = re.compile(r"^([^:\n]+):[ \t]*([+-]?\d+)(?:[ \t]+(\S+))?", re.MULTILINE)


def parse_meminfo(text: str) -> dict[str, int]:
    """`MemTotal:  16384 kB` lines -> {"MemTotal": bytes}; lines without a unit are counts."""
    return {
        m[1].strip(): int(m[2]) * 1024 if m[3] == "kB" else int(m[2]) for m in _MEMINFO_LINE.finditer(text)
    }


class MemorySampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        proc_root: str = "/proc",
        page_size: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "memory"
        self.interval = interval
        self._meminfo = join(proc_root, "meminfo")
        self._vmstat = join(proc_root, "vmstat")
        self._page_size = page_size or _page_size()
        self._clock = clock
        self._rates = RateTracker()
        self._status: SourceStatus | None = None

    def availability(self) -> SourceStatus:
        if self._status is None:
            try:
                text = read_text(self._meminfo)
            except OSError as exc:
                self._status = SourceStatus.unavailable(f"cannot read {self._meminfo}: {exc.strerror or exc}")
            else:
                if text is None:
                    self._status = SourceStatus.unavailable(f"no {self._meminfo} (not a Linux /proc)")
                elif "MemTotal" not in parse_meminfo(text):
                    self._status = SourceStatus.unavailable(f"{self._meminfo} has no MemTotal")
                else:
                    self._status = SourceStatus.ok()
        return self._status

    def sample(self) -> Values:
        now = self._clock()
        mi = parse_meminfo(read_text(self._meminfo) or "")
        out: Values = {}
        total = mi.get("MemTotal")
        available = mi.get("MemAvailable")  # absent before Linux 3.14: then so are used and used_pct
        if total:
            out["mem.total_bytes"] = float(total)
            if available is not None:
                used = max(0, total - available)
                out["mem.available_bytes"] = float(available)
                out["mem.used_bytes"] = float(used)
                out["mem.used_pct"] = 100.0 * used / total
        if "Cached" in mi:
            out["mem.cached_bytes"] = float(mi["Cached"] + mi.get("SReclaimable", 0))
        if "SwapTotal" in mi and "SwapFree" in mi:
            out["mem.swap_used_bytes"] = float(max(0, mi["SwapTotal"] - mi["SwapFree"]))
        try:
            vmstat = read_text(self._vmstat)
        except OSError:
            vmstat = None
        if vmstat is not None:
            vs = parse_kv(vmstat, _VMSTAT_KEYS)
            for field, key, scale in (
                ("pswpin", "mem.swap_in_bytes_per_s", self._page_size),
                ("pswpout", "mem.swap_out_bytes_per_s", self._page_size),
                ("pgmajfault", "mem.major_faults_per_s", 1),
            ):
                if field in vs:
                    out[key] = self._rates.rate(field, float(vs[field]), now, wrap=ULONG_MODULUS, scale=scale)
        return out

    def details(self) -> Mapping[str, Any]:
        return {"mem.page_size": self._page_size}
