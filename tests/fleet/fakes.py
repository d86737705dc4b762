"""Fake fleets for the screen tests: HostStates fed with Ticks directly (no ssh, no processes)."""

from __future__ import annotations

import time
from collections.abc import Callable

from perftui.fleet.protocol import Tick, Verdict
from perftui.fleet.state import HostState

VERDICTS = ("compute-bound", "memory-bound", "idle", "throttled", "io-bound")


def fake_tick(i: int, seq: int = 0, gpus: int = 8) -> Tick:
    values: dict[str, float] = {"cpu.util": float(10 + i % 80)}
    for g in range(gpus):
        values |= {
            f"gpu.{g}.util": float((i * 7 + g * 13) % 101),
            f"gpu.{g}.sm_active": float((i * 5 + g) % 90),
            f"gpu.{g}.mem_used_bytes": 40e9 + g * 1e9,
            f"gpu.{g}.mem_total_bytes": 80e9,
            f"gpu.{g}.power_w": 300.0 + (i + g) % 400,
            f"gpu.{g}.power_limit_w": 700.0,
        }
    if i % 3 == 0:
        values["serve.vllm.e2e.p99_s"] = 1.5 + i % 5
    v = VERDICTS[i % len(VERDICTS)]
    host = {"host": f"node{i}", "gpus": [{"index": g, "name": "NVIDIA H100 80GB HBM3"} for g in range(gpus)]}
    return Tick(
        seq,
        time.time(),
        2.0,
        values,
        {},
        {"gpu": (True, None)},
        Verdict(v, "high", v, f"evidence {i}"),
        host if seq == 0 else None,
    )


class FakeMonitor:
    """The Monitor protocol over `n` hosts; `feed()` delivers one tick to each up host."""

    def __init__(self, n: int, on_change: Callable[[HostState], None], down_every: int = 0) -> None:
        self.states = {f"node{i:03d}": HostState(f"node{i:03d}") for i in range(n)}
        self.down_every = down_every
        self.on_change = on_change
        self.started = False
        self.stopped = False
        self.seq = 0

    def feed(self) -> None:
        now = time.monotonic()
        for i, st in enumerate(self.states.values()):
            if self.down_every and i % self.down_every == 0:
                st.fail("ssh: connect to host node port 22: Connection refused")
            else:
                st.apply(fake_tick(i, self.seq), now)
            self.on_change(st)
        self.seq += 1

    def start(self) -> None:
        self.started = True
        self.feed()

    async def stop(self) -> None:
        self.stopped = True

    def refresh(self, now: float | None = None) -> None:
        for st in self.states.values():
            st.refresh(time.monotonic() if now is None else now)
