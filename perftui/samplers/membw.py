"""Host memory bandwidth, from hardware counters only (never estimated from CPU %).

Probed in order:
1. resctrl MBM: `/sys/fs/resctrl/mon_data/mon_L3_*/mbm_total_bytes`, one
   byte counter per L3 domain (socket or CCX). The root group counts the
   tasks of the default group; each control group directory has its own
   `mon_data`, so the machine total is the root's plus every control
   group's, summed over domains. MBM gives read + write together.
2. perf uncore IMC (Intel) / AMD UMC or DF PMUs under
   `/sys/bus/event_source/devices`: reading them needs perf_event_open,
   which perftui does not do yet; the source then says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Values
from perftui.samplers.procfs import ULONG_MODULUS, join, list_dir, read_str

_PMU_PREFIXES = ("uncore_imc", "amd_umc", "amd_df")
# Entries of the resctrl root that are not control groups.
_NOT_GROUPS = {"info", "mon_data", "mon_groups"}


class MemBwSampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        sys_root: str = "/sys",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "membw"
        self.interval = interval
        self._resctrl = join(sys_root, "fs", "resctrl")
        self._pmu_dir = join(sys_root, "bus", "event_source", "devices")
        self._clock = clock
        self._rates = RateTracker()
        self._status: SourceStatus | None = None
        self._files: list[str] = []
        self._pmus: list[str] = []

    # -- probing ---------------------------------------------------------
    def availability(self) -> SourceStatus:
        if self._status is None:
            self._status = self._probe()
        return self._status

    def _mbm_files(self) -> list[str]:
        group_dirs = [self._resctrl] + [
            join(self._resctrl, g)
            for g in list_dir(self._resctrl)
            if g not in _NOT_GROUPS and list_dir(join(self._resctrl, g, "mon_data"))
        ]
        files: list[str] = []
        for group in group_dirs:
            mon_data = join(group, "mon_data")
            for domain in list_dir(mon_data):
                if domain.startswith("mon_L3_"):
                    path = join(mon_data, domain, "mbm_total_bytes")
                    if read_str(path) is not None:
                        files.append(path)
        return files

    def _probe(self) -> SourceStatus:
        self._files = self._mbm_files()
        self._pmus = [d for d in list_dir(self._pmu_dir) if d.startswith(_PMU_PREFIXES)]
        if self._files:
            return SourceStatus.ok()
        if not list_dir(self._resctrl):
            resctrl = f"no resctrl MBM ({self._resctrl} not mounted)"
        else:
            resctrl = f"no resctrl MBM ({self._resctrl} has no mon_data/mon_L3_*/mbm_total_bytes)"
        if self._pmus:
            shown = ", ".join(self._pmus[:4]) + (", …" if len(self._pmus) > 4 else "")
            return SourceStatus.unavailable(
                f"memory-bandwidth PMU present ({shown}) but perftui does not read it yet "
                f"(it needs perf_event_open); {resctrl}"
            )
        return SourceStatus.unavailable(
            f"no memory-bandwidth counters: {resctrl}, no uncore IMC or AMD UMC/DF PMU under "
            f"{self._pmu_dir} (a VM usually exposes none)"
        )

    # -- sampling --------------------------------------------------------
    def sample(self) -> Values:
        now = self._clock()
        # Control groups come and go: rescan (a few directory listings) and
        # start over when the set of counters changed.
        files = self._mbm_files()
        if files != self._files:
            self._files = files
            self._rates.forget()
        total = 0
        for path in files:
            raw = read_str(path)
            # "Unavailable" / "Error": the counter could not be read for this
            # RMID this time; a partial sum would look like a drop, so skip.
            if raw is None or not raw.isdigit():
                self._rates.forget()
                return {}
            total += int(raw)
        if not files:
            return {}
        return {"mem.bw_bytes_per_s": self._rates.rate("mbm_total", float(total), now, wrap=ULONG_MODULUS)}

    def details(self) -> Mapping[str, Any]:
        return {
            "membw.method": "resctrl MBM (read + write, all L3 domains)" if self._files else None,
            "membw.domains": len(self._files),
        }
