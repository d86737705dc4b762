"""Runs one HostStream per host in the current asyncio loop; optional recording per host."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from perftui.fleet.hosts import SshOptions, ssh_argv
from perftui.fleet.reader import HostStream
from perftui.fleet.state import HostState

ArgvFor = Callable[[str], Sequence[str]]


class FleetMonitor:
    def __init__(
        self,
        hosts: Sequence[str],
        opts: SshOptions,
        *,
        argv_for: ArgvFor | None = None,
        record_dir: Path | None = None,
        reconnect: bool = True,
        silence_timeout: float | None = None,
        on_change: Callable[[HostState], None] | None = None,
    ) -> None:
        self.opts = opts
        eager = record_dir is not None
        self.states = {h: HostState(h, interval_s=opts.interval, eager=eager) for h in hosts}
        first_timeout = opts.connect_timeout + 10.0 + 3 * opts.interval
        self.streams = [
            HostStream(
                self.states[h],
                (argv_for or (lambda host: ssh_argv(host, opts)))(h),
                opts.interval,
                first_line_timeout=first_timeout,
                on_change=self._changed,
                reconnect=reconnect,
                silence_timeout=silence_timeout,
            )
            for h in hosts
        ]
        self._on_change = on_change
        self._record_dir = record_dir
        self._recorders: dict[str, Any] = {}
        self._last_verdict: dict[str, tuple[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def _changed(self, state: HostState) -> None:
        if self._record_dir is not None and state.last is not None:
            if state.name not in self._recorders:
                self._start_recorder(state)
            self._record_verdict(state)
        if self._on_change is not None:
            self._on_change(state)

    def _start_recorder(self, state: HostState) -> None:
        from perftui.store.recorder import Recorder, RecorderError

        assert self._record_dir is not None
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", state.name) or "host"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        meta = {
            **state.facts,
            "fleet_host": state.name,
            "interval_s": state.interval_s,
            "start_time": time.time(),
        }
        meta.setdefault("host", state.name)
        rec = Recorder(self._record_dir / f"perftui-{safe}-{stamp}.sqlite", state.store, meta=meta)
        try:
            rec.start()
        except RecorderError as exc:
            state.error = f"not recorded: {exc}"
            self._recorders[state.name] = None
            return
        self._recorders[state.name] = rec

    def _record_verdict(self, state: HostState) -> None:
        """The remote verdict's changes go to the recording's diagnosis timeline."""
        rec, v, tick = self._recorders.get(state.name), state.verdict, state.last
        if rec is None or v is None or tick is None:
            return
        if self._last_verdict.get(state.name) == (v.verdict, v.confidence):
            return
        self._last_verdict[state.name] = (v.verdict, v.confidence)
        from perftui.diagnosis.model import TimelineEntry

        evidence = (v.evidence,) if v.evidence else ()
        rec.add_timeline(TimelineEntry(tick.ts, v.verdict, v.confidence, v.title or v.verdict, evidence))  # type: ignore[arg-type]

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(s.run()) for s in self.streams]

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.streams), return_exceptions=True)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for rec in self._recorders.values():
            if rec is not None:
                rec.close()

    def recordings(self) -> list[Path]:
        return [r.path for r in self._recorders.values() if r is not None]

    def refresh(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for st in self.states.values():
            st.refresh(now)
