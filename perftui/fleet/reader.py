"""One host's stream: ssh as a subprocess (argument list, no shell here), read line by line.

- Lines are capped (`MAX_LINE_BYTES`); a longer or malformed line marks the host bad.
- The stream's pipe is not watched by the event loop: every reader polls its own pipe
  (non-blocking reads) at the instants of one shared grid — the next multiple of
  `min(POLL_MAX_S, interval / 4)` seconds. A hundred hosts' readers then wake together, a few times
  a second, instead of the loop waking for each host's line (on a VM each wake-up costs more
  than the line's parsing; lines show up to one grid step later, well inside a refresh).
- A flooding remote is read at the interval: after each accepted line the reader leaves the pipe
  alone for 0.9 interval, so the pipe fills and ssh (then the remote) is held back; at most one
  line and one 64 kB read beyond it are held here.
- A stream that ends or goes silent is restarted with exponential backoff; ssh's own last line
  of stderr (bounded, control characters made visible) is the error shown.
- Nothing read from the remote is executed or passed to a shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import Callable, Sequence

from perftui.fleet.protocol import MAX_LINE_BYTES, ProtocolError, SchemaMismatch, decode_line
from perftui.fleet.state import BAD, DOWN, HostState
from perftui.fleet.text import visible

BACKOFF_MIN_S = 1.0
POLL_MAX_S = 0.5  # the shared grid's step (interval / 4 when that is shorter)
READ_CHUNK = 1 << 16
BACKOFF_MAX_S = 60.0
STDERR_KEEP = 4096
INSTALL_HINT = "install it there: pipx install perftui (or name the command with --remote-cmd)"


def last_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return visible(lines[-1]) if lines else ""


def classify_exit(rc: int | None, stderr: str) -> str:
    """The one line a failed or ended ssh session shows in its host's row."""
    text = stderr.lower()
    line = last_line(stderr)
    if (
        "host key verification failed" in text
        or "no ed25519 host key is known" in text
        or ("host key is known" in text)
    ):
        return "host key unknown or changed (never accepted automatically: check it with ssh HOST first)"
    if "remote host identification has changed" in text:
        return "host key changed (possible man-in-the-middle): " + line
    if "permission denied" in text:
        return "auth refused: " + line
    if rc == 127 or "command not found" in text or ("no such file or directory" in text and rc != 255):
        return f"perftui missing on the host ({line or 'exit 127'}): {INSTALL_HINT}"
    if rc == 255:
        return line or "ssh failed (exit 255)"
    if rc == 2 and line:
        return "remote perftui refused: " + line
    return f"stream ended (exit {rc})" + (f": {line}" if line else "")


def grid_at(now: float, earliest: float, step: float) -> float:
    """The first multiple of `step` at or after max(now, earliest): readers with the same step wake
    at the same instants."""
    start = max(now, earliest)
    at = math.floor(start / step) * step
    return at if at >= start else at + step


async def sleep_until(at: float) -> None:
    """Sleep until the event loop's clock reads `at` (timers due at the same instant run in one
    wake-up of the loop)."""
    loop = asyncio.get_running_loop()
    if at <= loop.time():
        return
    done: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    handle = loop.call_at(at, wake)
    try:
        await done
    finally:
        handle.cancel()


def take_line(fd: int, buf: bytearray) -> tuple[bytes | None, bool]:
    """The next line from the non-blocking pipe `fd` (bytes already read wait in `buf`), and whether
    the writer has closed it. Reads stop at the first newline; ValueError: a line over the cap."""
    eof = False
    i = buf.find(b"\n")
    while i < 0:
        if len(buf) > MAX_LINE_BYTES:
            raise ValueError("line over the cap")
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            break
        if not chunk:
            eof = True
            break
        start = len(buf)
        buf += chunk
        i = buf.find(b"\n", start)
    if i > MAX_LINE_BYTES:
        raise ValueError("line over the cap")
    if i >= 0:
        line = bytes(buf[: i + 1])
        del buf[: i + 1]
        return line, False
    if eof and buf:  # a last line without its newline
        line = bytes(buf)
        buf.clear()
        return line, False
    return None, eof


class HostStream:
    """Runs and re-runs `argv` for one host, feeding `state`; `on_tick` after each good line."""

    def __init__(
        self,
        state: HostState,
        argv: Sequence[str],
        interval: float,
        *,
        first_line_timeout: float = 30.0,
        silence_timeout: float | None = None,
        on_change: Callable[[HostState], None] | None = None,
        reconnect: bool = True,
    ) -> None:
        self.state = state
        self.argv = list(argv)
        self.interval = interval
        self.first_line_timeout = first_line_timeout
        self.silence_timeout = silence_timeout or max(15.0, 6 * interval)
        self.on_change = on_change
        self.reconnect = reconnect
        self.proc: asyncio.subprocess.Process | None = None
        self.lines_read = 0
        self.lines_dropped = 0
        self._stderr = ""
        self._stopping = False
        self._failed = False

    async def run(self) -> None:
        backoff = BACKOFF_MIN_S
        while not self._stopping:
            got_data = await self._session()
            if self._stopping or not self.reconnect:
                return
            backoff = BACKOFF_MIN_S if got_data else min(BACKOFF_MAX_S, backoff * 2)
            if isinstance(self.state.error, str) and "schema" in self.state.error:
                backoff = BACKOFF_MAX_S
            await asyncio.sleep(backoff)

    async def stop(self) -> None:
        self._stopping = True
        await self._end_process()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.state)

    async def _session(self) -> bool:
        """One ssh session; True when it delivered at least one good line."""
        self._stderr = ""
        self._failed = False
        self.state.connects += 1
        r_fd, w_fd = os.pipe()  # stdout: read here at the grid's instants, never by the loop
        os.set_blocking(r_fd, False)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=w_fd,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # no controlling terminal: ssh can never prompt
            )
        except OSError as exc:
            os.close(r_fd)
            self.state.fail(f"cannot run {self.argv[0]}: {exc.strerror}")
            self._changed()
            return False
        finally:
            os.close(w_fd)  # the child has its copy: its exit is our end of file
        assert self.proc.stderr is not None
        err_task = asyncio.ensure_future(self._drain_stderr(self.proc.stderr))
        good = False
        try:
            good = await self._read_lines(r_fd)
        finally:
            rc = await self._end_process()
            os.close(r_fd)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(err_task, 2.0)
        if not self._stopping and not self._failed:
            self.state.fail(classify_exit(rc, self._stderr), DOWN)
        self._changed()
        return good

    def _fail(self, message: str, status: str) -> None:
        self._failed = True
        self.state.fail(message, status)

    async def _read_lines(self, fd: int) -> bool:
        good = False
        timeout = self.first_line_timeout
        step = min(POLL_MAX_S, self.interval / 4)
        buf = bytearray()
        clock = asyncio.get_running_loop().time  # the grid is on the loop's clock
        last = earliest = clock()  # the session's start, then the last accepted line
        while not self._stopping:
            await sleep_until(grid_at(clock(), earliest, step))
            if self._stopping:
                break
            try:
                line, eof = take_line(fd, buf)
            except ValueError:
                self._fail(f"bad stream: line longer than {MAX_LINE_BYTES} bytes", BAD)
                return good
            now = clock()
            if line is None:
                if eof:
                    return good
                if now - last > timeout:
                    what = "no answer" if not good else "stream went silent"
                    self._fail(f"{what} for {timeout:.0f} s (timed out)", DOWN)
                    return good
                earliest = now + step / 2  # nothing yet: the next grid instant
                continue
            self.lines_read += 1
            try:
                tick = decode_line(line)
            except SchemaMismatch as exc:
                self._fail(str(exc), BAD)
                return good
            except ProtocolError as exc:
                self._fail(f"bad stream: {exc}", BAD)
                return good
            last = now
            earliest = now + 0.9 * self.interval  # a remote faster than the interval waits in the pipe
            self.state.apply(tick, time.monotonic())
            good = True
            timeout = self.silence_timeout
            self._changed()
        return good

    async def _drain_stderr(self, stderr: asyncio.StreamReader) -> None:
        while True:
            chunk = await stderr.read(4096)
            if not chunk:
                return
            self._stderr = (self._stderr + chunk.decode("utf-8", "replace"))[-STDERR_KEEP:]

    async def _end_process(self) -> int | None:
        proc = self.proc
        if proc is None:
            return None
        if proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 0.5 if not self._stopping else 0.2)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 2.0)
                except asyncio.TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        return proc.returncode
