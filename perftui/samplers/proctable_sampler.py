"""The "proctable" source: the whole process table for the process list and diagnosis culprits.

One pass of `ProcTable` over /proc every max(interval, 2 s) (the first pass only primes the rate
counters, so it runs after PRIME_S and publishes nothing); published as the detail

    "proctable": {"ts": <wall time>, "rows": [dataclasses.asdict(ProcRow), ...]}

rows sorted by CPU % (highest first). This shape is read by the process list (ui/widgets/process_list)
and by diagnosis's culprits: keep it. GPU memory and SM % per PID come from the GPU sampler's latest
`gpu.processes` list (NVML host PIDs), summed over GPUs; samplers never read the store.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perftui.core.proctable_record import DETAIL_KEY
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Values

if TYPE_CHECKING:
    from perftui.samplers.proctable import ProcRow, ProcTable

MIN_PERIOD_S = 2.0  # issue 20: the whole table at most every 2 s
PRIME_S = 0.5  # the first (priming) pass is followed by the first published one this soon

GpuProcesses = Callable[[], Sequence[Mapping[str, Any]] | None]


class ProcTableSampler(BaseSampler):
    name = "proctable"
    # the first pass publishes nothing: the dashboard starts it after its first frame, and the table's
    # modules (redaction and cgroup-name patterns, ~10 ms) load then, in this sampler's thread
    after_first_frame = True

    def __init__(
        self,
        interval: float = 1.0,
        gpu_processes: GpuProcesses | None = None,
        root: Path = Path("/proc"),
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._period = max(float(interval), MIN_PERIOD_S)
        self._gpu_processes = gpu_processes
        self._clock = clock
        self._monotonic = monotonic
        self._root = root
        self._table: ProcTable | None = None
        self._primed = False
        self._details: dict[str, Any] = {}
        self._dicts: dict[int, tuple[ProcRow, dict[str, Any]]] = {}  # pid -> its row and published dict
        self._status = (
            SourceStatus.ok()
            if os.access(root, os.R_OK | os.X_OK)
            else SourceStatus.unavailable(f"{root} is not readable: no process list")
        )

    # the runner's +/- sets every sampler's interval: this one never runs faster than every 2 s
    @property
    def interval(self) -> float:
        return self._period if self._primed else PRIME_S

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._period = max(float(seconds), MIN_PERIOD_S)

    def availability(self) -> SourceStatus:
        return self._status

    def details(self) -> Mapping[str, Any]:
        return self._details

    @property
    def table(self) -> ProcTable:
        if self._table is None:
            from perftui.samplers.proctable import ProcTable

            self._table = ProcTable(root=self._root)
        return self._table

    def sample(self) -> Values:
        if not self._primed:  # no rates yet: publish from the second pass on
            self.table.prime(self._monotonic())
            self._primed = True
            return {}
        rows = self.table.sample(self._monotonic())
        rows = with_gpu(rows, self._gpu_processes() if self._gpu_processes is not None else None)
        rows.sort(key=lambda r: -r.cpu_pct)
        # = dataclasses.asdict(r) (flat fields), at a tenth of its cost; a row the table gave again
        # unchanged (a sleeper) keeps its dict: readers never change them
        made: dict[int, tuple[ProcRow, dict[str, Any]]] = {}
        out: list[dict[str, Any]] = []
        for r in rows:
            hit = self._dicts.get(r.pid)
            d = hit[1] if hit is not None and hit[0] is r else dict(vars(r))
            made[r.pid] = (r, d)
            out.append(d)
        self._dicts = made
        self._details = {DETAIL_KEY: {"ts": self._clock(), "rows": out}}
        return {}


def with_gpu(rows: list[ProcRow], procs: Sequence[Mapping[str, Any]] | None) -> list[ProcRow]:
    """`rows` with GPU memory and SM % from the GPU sampler's per-process list, summed over GPUs."""
    if not procs:
        return list(rows)
    mem: dict[int, int | None] = {}  # None: on a GPU, memory not reported (some MIG/vGPU setups)
    sm: dict[int, float] = {}
    for p in procs:
        pid = p.get("pid")
        if not isinstance(pid, int):
            continue
        used = p.get("used_bytes")
        if isinstance(used, (int, float)):
            mem[pid] = (mem.get(pid) or 0) + int(used)
        else:
            mem.setdefault(pid, None)
        util = p.get("sm_util")
        if isinstance(util, (int, float)):
            sm[pid] = sm.get(pid, 0.0) + float(util)
    return [
        dataclasses.replace(r, gpu_mem_bytes=mem[r.pid], sm_pct=sm.get(r.pid)) if r.pid in mem else r
        for r in rows
    ]
