"""The probe as a source: it runs its event loop in its own thread and feeds `probe.*` values into a
MetricStore once a second, as a sampler does, so the dashboard, the recorder and the diagnosis read
it like any other source.

Per tick, over the requests that *completed* in it: `probe.requests_per_s`, `probe.errors_per_s`,
`probe.tokens_per_s` (streams), `probe.in_flight`, and `probe.<metric>.<p50|p95|p99|p999>_s` for
`latency` (plain HTTP) or `ttft`, `itl`, `e2e` (OpenAI streams). The detail `probe.table` holds the
running percentiles of the whole run (refreshed every few ticks), and `probe.summary` the final one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from perftui.core.redact import redact_text
from perftui.core.types import SourceStatus
from perftui.probe.client import Load, Prober, RunInfo, Target
from perftui.probe.results import RequestResult, Tally
from perftui.store.metric_store import MetricStore

SOURCE = "probe"
PCTS: tuple[tuple[str, float], ...] = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))
TABLE_EVERY_TICKS = 5


def metric_names(streaming: bool) -> tuple[str, ...]:
    return ("ttft", "itl", "e2e") if streaming else ("latency",)


def _series(results: Sequence[RequestResult], streaming: bool) -> dict[str, list[float]]:
    ok = [r for r in results if r.error is None]
    if not streaming:
        return {"latency": [r.latency for r in ok]}
    return {
        "ttft": [r.ttft for r in ok if r.ttft is not None],
        "itl": [g for r in ok for g in r.gaps],
        "e2e": [r.latency for r in ok],
    }


def tick_values(
    results: Sequence[RequestResult], seconds: float, streaming: bool, in_flight: int
) -> dict[str, float]:
    """The `probe.*` values of one tick from the requests that completed in it."""
    dt = max(seconds, 1e-9)
    out: dict[str, float] = {
        "probe.requests_per_s": len(results) / dt,
        "probe.errors_per_s": sum(1 for r in results if r.error is not None) / dt,
        "probe.in_flight": float(in_flight),
    }
    if streaming:
        out["probe.tokens_per_s"] = sum(r.tokens for r in results if r.error is None) / dt
    for name, values in _series(results, streaming).items():
        if values:
            qs = np.percentile(np.asarray(values), [q for _, q in PCTS])
            for (p, _), v in zip(PCTS, qs, strict=False):
                out[f"probe.{name}.{p}_s"] = float(v)
    return out


class RunningTable:
    """Percentiles (no intervals: cheap) of every measured request so far, per metric. Values are
    kept as numpy chunks as they arrive, so a refresh costs one concatenate and one partition, not
    a pass over every request object (which would stall the probe's loop in a long run)."""

    def __init__(self, streaming: bool) -> None:
        self.streaming = streaming
        self._chunks: dict[str, list[npt.NDArray[np.float64]]] = {}

    def add(self, results: Sequence[RequestResult]) -> None:
        measured = [r for r in results if not r.warmup]
        for name, values in _series(measured, self.streaming).items():
            if values:
                self._chunks.setdefault(name, []).append(np.asarray(values, dtype=np.float64))

    def table(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for name, chunks in self._chunks.items():
            v = np.concatenate(chunks)
            self._chunks[name] = [v]
            qs = np.percentile(v, [q for _, q in PCTS])
            out[name] = {"count": float(v.size), **{p: float(x) for (p, _), x in zip(PCTS, qs, strict=True)}}
            out[name]["max"] = float(v.max())
        return out


def running_table(results: Sequence[RequestResult], streaming: bool) -> dict[str, dict[str, float]]:
    """The running table of `results` at once (the progress line's last requests)."""
    t = RunningTable(streaming)
    t.add(results)
    return t.table()


class ProbeSource:
    """start() runs the probe in a thread; stop() ends it early (what was measured is kept)."""

    name = SOURCE

    def __init__(
        self,
        store: MetricStore | None,
        target: Target,
        load: Load,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.target = target
        self.load = load
        self.interval = interval
        self.streaming = target.api is not None
        self.tally = Tally()
        self.info = RunInfo()
        self.error: str | None = None
        self._clock = clock
        self._prober: Prober | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self._published = 0
        self._table = RunningTable(self.streaming)
        self._stop_requested = False
        self._last_tick = time.perf_counter()

    # -- control (any thread) -------------------------------------------
    def start(self) -> None:
        self._prober = Prober(self.target, self.load, self.tally)
        if self.store is not None:
            self.store.set_status(SOURCE, SourceStatus.ok())
            mode = f"openai {self.target.api}" if self.target.api else self.target.method
            self.store.set_detail(
                "probe.target", {"url": redact_text(self.target.url), "load": self.load.label, "mode": mode}
            )
        self._thread = threading.Thread(target=self._thread_main, name="perftui-probe", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_requested = True  # seen by the loop if it has not started yet
        loop, prober = self._loop, self._prober
        if loop is not None and prober is not None and not self._finished.is_set():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(prober.stop)
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    # -- the probe's thread ----------------------------------------------
    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # reported, never a traceback in a thread
            self.error = f"{type(exc).__name__}: {exc}"
            if self.store is not None:
                self.store.set_status(SOURCE, SourceStatus.unavailable(f"probe failed: {exc}"))
        finally:
            self._finished.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        assert self._prober is not None
        if self._stop_requested:
            self._prober.stop()
        self._last_tick = time.perf_counter()
        publisher = asyncio.ensure_future(self._publish_loop())
        try:
            self.info = await self._prober.run()
        finally:
            publisher.cancel()
            await asyncio.gather(publisher, return_exceptions=True)
            partial = time.perf_counter() - self._last_tick
            self.publish(seconds=partial if len(self.tally.results) > self._published else None, final=True)

    async def _publish_loop(self) -> None:
        ticks = 0
        while True:
            elapsed = time.perf_counter() - self._last_tick
            await asyncio.sleep(max(0.0, self.interval - elapsed))
            now = time.perf_counter()
            self.publish(seconds=now - self._last_tick, table=ticks % TABLE_EVERY_TICKS == 0)
            self._last_tick = now
            ticks += 1

    def publish(self, seconds: float | None = None, *, table: bool = False, final: bool = False) -> None:
        """Append one tick of values for the requests completed since the last one."""
        if self.store is None:
            return
        results = self.tally.results
        n = len(results)
        new = results[self._published : n]
        self._published = n
        if seconds is not None:
            self.store.append(
                self._clock(), tick_values(new, seconds, self.streaming, self.tally.in_flight), source=SOURCE
            )
        self._table.add(new)
        if table or final:
            self.store.set_detail("probe.table", self._table.table())

    def set_summary(self, summary: Mapping[str, Any]) -> None:
        if self.store is not None:
            self.store.set_detail("probe.summary", dict(summary))
