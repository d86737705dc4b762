"""The replay driver: a recording fed into a MetricStore at `speed`× real time.

No Textual here. The app advances the driver on its timer (`advance(wall_seconds)`) and reads
`driver.store` exactly as it reads the live store; `position` is the replay's "now" (the app's
clock). Seeking rebuilds the store up to the new position (`load_into_store(rec, until=t)`):
a ring buffer cannot be rewound, so each seek makes a new store and the app switches to it.
"""

from __future__ import annotations

import bisect
from typing import Any

from perftui.store.metric_store import MetricStore
from perftui.store.reader import Recording, Tick, iter_ticks, load_into_store, replay_into

SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]
SEEK_STEP_S = 10.0


def meta_details(meta: dict[str, Any]) -> dict[str, Any]:
    """Details the recording's metadata knows that the panels and header read (GPU tier, driver)."""
    out: dict[str, Any] = {}
    gpus = meta.get("gpus")
    if isinstance(gpus, list):
        for i, g in enumerate(gpus):
            if not isinstance(g, dict):
                continue
            if g.get("tier"):
                out[f"gpu.{i}.tier"] = g["tier"]
            info = {k: v for k, v in g.items() if k != "tier"}
            if "memory_total_bytes" in info and "memory_total" not in info:
                info["memory_total"] = info["memory_total_bytes"]
            if info:
                out[f"gpu.{i}.info"] = info
    driver = meta.get("gpu_driver")
    if isinstance(driver, dict):
        out["gpu.driver"] = driver
    if meta.get("cpu_model"):
        out["cpu.model"] = meta["cpu_model"]
    return out


class ReplayDriver:
    def __init__(self, rec: Recording, *, speed: float = 1.0) -> None:
        self.rec = rec
        self.ticks: list[Tick] = list(iter_ticks(rec))
        self._tick_ts = [t.ts for t in self.ticks]
        first = rec.start if rec.start is not None else (self._tick_ts[0] if self.ticks else 0.0)
        last = rec.end if rec.end is not None else (self._tick_ts[-1] if self.ticks else first)
        self.start = float(first)
        self.end = float(max(last, first))
        self.capacity = max((int(ts.size) for ts, _ in rec.series.values()), default=1) + 16
        self.speed = min(MAX_SPEED, max(MIN_SPEED, speed))
        self.paused = False
        self.position = self.start
        self._next = 0
        self.store = MetricStore(capacity=self.capacity)
        self.seeks = 0  # how many times the store was rebuilt (the app watches it)
        self.seek(self.start)

    @property
    def at_end(self) -> bool:
        return self.position >= self.end

    @property
    def elapsed(self) -> float:
        return self.position - self.start

    @property
    def duration(self) -> float:
        return self.end - self.start

    def now(self) -> float:
        """The replay clock: the app's ViewCtx.now."""
        return self.position

    def _fill_from_meta(self) -> None:
        for name, value in meta_details(self.rec.meta).items():
            if self.store.detail(name) is None:
                self.store.set_detail(name, value)

    def seek(self, t: float) -> None:
        """Rebuild the store with everything up to `t` (clamped to the recording)."""
        t = min(self.end, max(self.start, t))
        store = MetricStore(capacity=self.capacity)
        load_into_store(self.rec, store, until=t)
        self.store = store
        self._fill_from_meta()
        self.position = t
        self._next = bisect.bisect_right(self._tick_ts, t)
        self.seeks += 1

    def seek_by(self, seconds: float) -> None:
        self.seek(self.position + seconds)

    def advance(self, wall_seconds: float) -> int:
        """Move `wall_seconds × speed` forward (not when paused); the number of ticks applied."""
        if self.paused or wall_seconds <= 0 or self.at_end:
            return 0
        target = min(self.end, self.position + wall_seconds * self.speed)
        applied = 0
        while self._next < len(self.ticks) and self._tick_ts[self._next] <= target:
            replay_into(self.store, self.ticks[self._next])
            self._next += 1
            applied += 1
        self.position = target
        return applied

    def change_speed(self, step: int) -> float:
        if step > 0:
            bigger = [s for s in SPEEDS if s > self.speed + 1e-9]
            self.speed = bigger[0] if bigger else SPEEDS[-1]
        else:
            smaller = [s for s in SPEEDS if s < self.speed - 1e-9]
            self.speed = smaller[-1] if smaller else SPEEDS[0]
        return self.speed


def clock_text(seconds: float) -> str:
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"
