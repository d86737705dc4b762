"""A small Chrome DevTools Protocol client for the browser-mode tests: Debian's headless Chromium,
driven over its DevTools websocket with aiohttp (already a dependency of textual-serve).

The client runs its event loop in a thread and offers a blocking API, so tests wait with
`tests.polling.wait_for` like every other test that drives a real process. What the browser's
terminal receives is read from the page's websocket frames (`Network.webSocketFrameReceived`):
textual-serve's packets carry the dashboard's terminal output, escape codes and all.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.polling import wait_for

_CSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Tab:
    """One page target, attached with its own CDP session."""

    def __init__(self, browser: Browser, target_id: str, session_id: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
        return self.browser.call(method, params, session_id=self.session_id, timeout=timeout)

    def screen_bytes(self) -> bytes:
        """Everything the page's websockets received so far, decoded, escape sequences removed."""
        chunks: list[bytes] = []
        for event in self.browser.events(self.session_id, "Network.webSocketFrameReceived"):
            response = event["response"]
            data = response["payloadData"]
            chunks.append(base64.b64decode(data) if response.get("opcode") == 2 else data.encode())
        return _CSI.sub(b"", b"".join(chunks))

    def screen_text(self) -> str:
        return self.screen_bytes().decode("utf-8", errors="replace")

    def shows(self, *words: str) -> bool:
        text = self.screen_text()
        return all(w in text for w in words)

    def press(self, key: str) -> None:
        """A printable key typed into the focused terminal (xterm.js's hidden textarea)."""
        self.call(
            "Runtime.evaluate",
            {"expression": "document.querySelector('.xterm-helper-textarea')?.focus(); true"},
        )
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", "key": key, "text": key})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key})

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target_id})


class Browser:
    """A headless Chromium process and one DevTools websocket to it."""

    def __init__(self, ws_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._submit(self._connect(ws_url)).result(timeout=30)

    def _submit(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _connect(self, ws_url: str) -> None:
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(ws_url, max_msg_size=0)
        self._loop.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if "id" in data:
                fut = self._pending.pop(data["id"], None)
                if fut is not None and not fut.done():
                    if "error" in data:
                        fut.set_exception(RuntimeError(f"CDP error: {data['error']}"))
                    else:
                        fut.set_result(data.get("result", {}))
            else:
                with self._lock:
                    self._events.append(data)

    async def _send(self, method: str, params: dict[str, Any], session_id: str | None) -> Any:
        assert self._ws is not None
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session_id is not None:
            message["sessionId"] = session_id
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._pending[self._next_id] = fut
        await self._ws.send_str(json.dumps(message))
        return await fut

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session_id: str | None = None,
        timeout: float = 30.0,
    ) -> Any:
        return self._submit(self._send(method, params or {}, session_id)).result(timeout=timeout)

    def events(self, session_id: str, method: str) -> list[dict[str, Any]]:
        with self._lock:
            mine = [e for e in self._events if e.get("sessionId") == session_id]
        return [e["params"] for e in mine if e["method"] == method]

    def open(self, url: str, width: int = 1400, height: int = 900) -> Tab:
        """A new tab with network events on, then navigated to `url` (so no frame is missed)."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tab = Tab(self, target, session)
        tab.call("Network.enable")
        tab.call("Page.enable")
        tab.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        tab.call("Page.navigate", {"url": url})
        return tab

    def close(self) -> None:
        async def shut() -> None:
            if self._ws is not None:
                await self._ws.close()
            if self._http is not None:
                await self._http.close()

        try:
            self._submit(shut()).result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


@contextmanager
def headless_chromium(executable: str) -> Iterator[Browser]:
    """Start Chromium headless with its DevTools port on loopback; yield a connected client."""
    # its helpers (renderer, crashpad) may still write the profile as it exits: cleanup errors ignored
    with tempfile.TemporaryDirectory(prefix="perftui-chromium-", ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",  # tests may run as root, where Chromium's sandbox refuses to start
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: teardown ends its helper processes too
        )
        found: list[str] = []

        def read_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                m = _DEVTOOLS.search(line)
                if m and not found:
                    found.append(m.group(1))

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        browser: Browser | None = None
        try:
            if not wait_for(lambda: found or proc.poll() is not None, timeout=60) or not found:
                raise RuntimeError(f"chromium did not open its DevTools port (exit {proc.poll()})")
            browser = Browser(found[0])
            yield browser
        finally:
            if browser is not None:
                browser.close()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
