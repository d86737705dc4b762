"""The load itself: aiohttp requests on one event loop, open loop (a schedule) or closed loop.

Every request is timed from when it was *due*: in the open loop the schedule's time, so a stall
of the client or the server is charged to each request it delayed (wrk2's correction for
coordinated omission); in the closed loop the moment its worker was free. Nothing is retried.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

try:
    import aiohttp
except ImportError:  # pragma: no cover - the message is tested through the command
    aiohttp = None  # type: ignore[assignment]

from perftui.probe.prompts import Api, BodyMaker
from perftui.probe.results import (
    CONNECT,
    DISCONNECTED,
    MALFORMED,
    OTHER,
    TIMEOUT,
    RequestResult,
    Tally,
    http_kind,
)
from perftui.probe.schedule import Arrivals, offsets
from perftui.probe.sse import DONE, MalformedStream, SseDecoder, parse_chunk

MISSING_CLIENT = "the probe needs aiohttp: pip install 'perftui[probe]'"
STOP_CHECK_S = 0.1  # how often a long wait looks at the stop flag
# epoll's timeout is in whole milliseconds (asyncio rounds up), so a timer fires up to 1 ms late;
# the last SPIN_S before a request is due is spent yielding to the loop instead of sleeping.
SPIN_S = 0.0012

clock = time.perf_counter


@dataclass(frozen=True)
class Target:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    api: Api | None = None  # OpenAI streaming when set
    bodies: BodyMaker | None = None


@dataclass(frozen=True)
class Load:
    rate: float | None = None  # open loop (requests/s)
    concurrency: int | None = None  # closed loop (workers)
    arrivals: Arrivals = "poisson"
    duration: float | None = None  # measured seconds (after the warm-up)
    requests: int | None = None  # measured requests (after the warm-up)
    warmup: float = 0.0
    timeout: float = 30.0
    connections: int = 1000
    seed: int | None = None

    @property
    def label(self) -> str:
        if self.rate is not None:
            return f"{self.rate:g} req/s"
        return f"concurrency {self.concurrency}"


@dataclass
class RunInfo:
    """When the measured part began and ended (perf_counter), and why the run stopped."""

    start: float = 0.0
    measure_start: float = 0.0
    end: float = 0.0
    stopped: str | None = None  # "interrupted" when stopped early
    cancelled: int = 0  # requests in flight when stopped early (not counted)


def _kind(exc: BaseException) -> str:
    if aiohttp is None:  # pragma: no cover
        return OTHER
    if isinstance(exc, asyncio.TimeoutError):
        return TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorError):
        return CONNECT
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)):
        return DISCONNECTED
    if isinstance(exc, MalformedStream):
        return MALFORMED
    return OTHER


class Prober:
    """One run: `await run()` sends the load and fills `tally`; `stop()` ends it early."""

    def __init__(
        self,
        target: Target,
        load: Load,
        tally: Tally | None = None,
        trace_configs: list[aiohttp.TraceConfig] | None = None,
    ) -> None:
        if aiohttp is None:
            raise RuntimeError(MISSING_CLIENT)
        self.target = target
        self.load = load
        self.tally = tally or Tally()
        self.info = RunInfo()
        self._stopping = False
        self._warm_sent = 0
        self._wake: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None
        self._trace_configs = trace_configs  # aiohttp's request tracing (the benchmark's timing points)

    def stop(self) -> None:
        """Stop sending; requests in flight are cancelled. Call on the loop's thread."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> RunInfo:
        self._wake = asyncio.Event()
        connector = aiohttp.TCPConnector(limit=self.load.connections, limit_per_host=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=self.load.timeout)
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
            trace_configs=self._trace_configs,
        ) as session:
            self._session = session
            self.info.start = clock()
            self.info.measure_start = self.info.start + self.load.warmup
            tasks: set[asyncio.Task[None]] = set()
            if self.load.rate is not None:
                await self._open_loop(tasks)
            else:
                workers = [asyncio.ensure_future(self._worker()) for _ in range(self.load.concurrency or 1)]
                tasks.update(workers)
            await self._drain(tasks)
            self.info.end = clock()
            if self._stopping:
                self.info.stopped = "interrupted"
        return self.info

    async def _drain(self, tasks: set[asyncio.Task[None]]) -> None:
        """Wait for the requests in flight (each bounded by the timeout) unless stopped."""
        assert self._wake is not None
        pending = set(tasks)  # no task is added any more
        if pending and not self._stopping:
            everything: asyncio.Future[Any] = asyncio.gather(*pending, return_exceptions=True)
            waker: asyncio.Future[Any] = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({everything, waker}, return_when=asyncio.FIRST_COMPLETED)
            waker.cancel()
            if everything.done():
                return
        pending = {t for t in pending if not t.done()}
        if pending:
            self.info.stopped = "interrupted"
            self.info.cancelled = self.tally.in_flight
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _measured_enough(self, due: float) -> bool:
        """True when a request due at `due` would be past the run's bounds."""
        load = self.load
        if load.duration is not None and due >= self.info.measure_start + load.duration:
            return True
        if load.requests is not None:
            measured = self.tally.sent - self._warm_sent
            return measured >= load.requests and due >= self.info.measure_start
        return False

    async def _open_loop(self, tasks: set[asyncio.Task[None]]) -> None:
        load = self.load
        assert load.rate is not None
        start = self.info.start
        loop = asyncio.get_running_loop()
        for off in offsets(load.rate, load.arrivals, load.seed):
            due = start + off
            if self._stopping or self._measured_enough(due):
                return
            delay = due - clock()
            while delay > SPIN_S and not self._stopping:
                await asyncio.sleep(min(delay - SPIN_S, STOP_CHECK_S))
                delay = due - clock()
            while delay > 0 and not self._stopping:
                await asyncio.sleep(0)  # the last stretch: the loop's own timer is 1 ms coarse
                delay = due - clock()
            if self._stopping:
                return
            warm = due < self.info.measure_start
            self._count_sent(warm)
            task = loop.create_task(self._one(due, warm))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def _count_sent(self, warm: bool) -> None:
        self.tally.sent += 1
        if warm:
            self._warm_sent += 1

    async def _worker(self) -> None:
        while not self._stopping:
            due = clock()
            if self._measured_enough(due):
                return
            warm = due < self.info.measure_start
            self._count_sent(warm)
            await self._one(due, warm)

    async def _one(self, due: float, warm: bool) -> None:
        tally = self.tally
        tally.in_flight += 1
        try:
            if self.target.api is None:
                r = await self._plain(due)
            else:
                r = await self._stream(due)
        except Exception as exc:  # anything else (an SSE line over aiohttp's limit): counted, never lost
            protocol = isinstance(exc, aiohttp.http_exceptions.HttpProcessingError)
            kind = MALFORMED if protocol and self.target.api is not None else OTHER
            text = " ".join(str(exc).split())
            r = RequestResult(due, due, clock(), kind, f"{type(exc).__name__}: {text}"[:160])
        finally:
            tally.in_flight -= 1
        r.warmup = warm
        tally.add(r)

    async def _plain(self, due: float) -> RequestResult:
        t = self.target
        assert self._session is not None
        started = clock()
        try:
            async with self._session.request(t.method, t.url, data=t.body, headers=t.headers) as resp:
                await resp.read()
                ended = clock()
                if resp.status >= 400:
                    return RequestResult(due, started, ended, http_kind(resp.status), resp.reason or "")
                return RequestResult(due, started, ended)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return RequestResult(due, started, clock(), _kind(exc), str(exc)[:200])

    async def _stream(self, due: float) -> RequestResult:
        t = self.target
        assert self._session is not None and t.bodies is not None
        body = t.bodies.next_body()
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **t.headers}
        started = clock()
        r = RequestResult(due, started, started)
        last = 0.0
        chunks = 0
        usage: int | None = None
        done = False
        try:
            async with self._session.post(t.url, data=body, headers=headers) as resp:
                if resp.status >= 400:
                    await resp.read()
                    r.ended = clock()
                    r.error, r.detail = http_kind(resp.status), resp.reason or ""
                    return r
                dec = SseDecoder()
                async for line in resp.content:
                    data = dec.feed_line(line)
                    if data is None:
                        continue
                    if data == DONE:
                        done = True
                        break
                    chunk = parse_chunk(data)
                    now = clock()
                    if chunk.content:
                        if r.ttft is None:
                            r.ttft = now - due
                        else:
                            r.gaps.append(now - last)
                        last = now
                        chunks += 1
                    if chunk.completion_tokens is not None:
                        usage = chunk.completion_tokens
                tail = None if done else dec.flush()
                if tail == DONE:
                    done = True
                r.ended = clock()
                if not done:
                    r.error, r.detail = DISCONNECTED, "the stream ended without data: [DONE]"
        except (aiohttp.ClientError, asyncio.TimeoutError, MalformedStream) as exc:
            r.ended = clock()
            r.error, r.detail = _kind(exc), str(exc)[:200]
        r.tokens = usage if usage is not None else chunks
        r.tokens_from_usage = usage is not None
        return r
