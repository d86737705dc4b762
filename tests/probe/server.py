"""A real HTTP server for the probe's tests (aiohttp.web on 127.0.0.1, its own thread and loop).

Routes, each with a behaviour the tests know exactly:
- `/delay/{ms}`: answers 200 after `ms` milliseconds;
- `/status/{code}`: answers with that status;
- `/stall`: answers at once, except that requests arriving in the stall window wait until it ends;
- `/hang`: never answers;
- `/v1/completions`, `/v1/chat/completions`: an OpenAI-style SSE stream of `max_tokens` content
  chunks `gap_ms` apart (query `gap_ms`, `usage=0|1`, `mode=ok|cut|malformed|huge`); a chat stream
  starts with a role-only chunk, as llama-server's does.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


class Server:
    def __init__(self) -> None:
        self.port = 0
        self.requests = 0
        self.stall_at: float | None = None  # perf_counter when the stall begins
        self.stall_s = 0.0
        self.bodies: list[dict[str, object]] = []
        self.headers: list[dict[str, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/delay/{ms}", self.delay)
        app.router.add_route("*", "/status/{code}", self.status)
        app.router.add_get("/stall", self.stall)
        app.router.add_get("/mix", self.mix)
        app.router.add_get("/hang", self.hang)
        app.router.add_post("/echo", self.echo)
        app.router.add_post("/v1/completions", self.stream)
        app.router.add_post("/v1/chat/completions", self.stream)
        return app

    async def delay(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(int(request.match_info["ms"]) / 1000)
        return web.Response(text="ok")

    async def mix(self, request: web.Request) -> web.Response:
        """Every tenth request (the 1st, 11th, …) takes 50 ms, the others 10 ms."""
        self.requests += 1
        await asyncio.sleep(0.050 if self.requests % 10 == 1 else 0.010)
        return web.Response(text="ok")

    async def status(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def stall(self, request: web.Request) -> web.Response:
        self.requests += 1
        now = time.perf_counter()
        if self.stall_at is not None and self.stall_at <= now < self.stall_at + self.stall_s:
            await asyncio.sleep(self.stall_at + self.stall_s - now)
        return web.Response(text="ok")

    async def hang(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(3600)
        return web.Response(text="never")

    async def echo(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.headers.append(dict(request.headers))
        self.bodies.append({"raw": (await request.read()).decode()})
        return web.Response(text="ok")

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.json()
        self.bodies.append(body)
        q = request.query
        gap = float(q.get("gap_ms", "2")) / 1000
        n = int(body.get("max_tokens", 8))
        chat = request.path.endswith("/chat/completions")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(obj: object) -> None:
            await resp.write(f"data: {json.dumps(obj)}\n\n".encode())

        if chat:
            await send({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        await resp.write(b": keep-alive\n\n")
        for i in range(n):
            await asyncio.sleep(gap)
            if q.get("mode") == "cut" and i == n // 2:
                assert request.transport is not None
                request.transport.close()
                return resp
            if q.get("mode") == "huge" and i == n // 2:
                await resp.write(b"data: " + b"x" * 1_000_000 + b"\n\n")
                continue
            if q.get("mode") == "malformed" and i == n // 2:
                await resp.write(b"data: {not json\n\n")
                continue
            piece = {"index": 0, "finish_reason": "length" if i == n - 1 else None}
            piece.update({"delta": {"content": f"w{i} "}} if chat else {"text": f"w{i} "})
            await send({"choices": [piece], "usage": None})
        if q.get("usage", "1") == "1":
            await send({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": n}})
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


@contextmanager
def running_server() -> Iterator[Server]:
    server = Server()
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=0.2)

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10), "the test server did not start"
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
