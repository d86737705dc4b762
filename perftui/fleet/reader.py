"""One host's stream: ssh as a subprocess (argument list, no shell here), read line by line.

- Lines are capped (`MAX_LINE_BYTES`); a longer or malformed line marks the host bad.
- A flooding remote is read at the interval: after each accepted line the reader waits before
  reading the next, so the pipe fills and ssh (then the remote) is held back; nothing is queued
  beyond asyncio's bounded read buffer.
- A stream that ends or goes silent is restarted with exponential backoff; ssh's own last line
  of stderr (bounded, control characters made visible) is the error shown.
- Nothing read from the remote is executed or passed to a shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from perftui.fleet.protocol import MAX_LINE_BYTES, ProtocolError, SchemaMismatch, decode_line
from perftui.fleet.state import BAD, DOWN, HostState
from perftui.fleet.text import visible

BACKOFF_MIN_S = 1.0
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
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=MAX_LINE_BYTES + 1,
                start_new_session=True,  # no controlling terminal: ssh can never prompt
            )
        except OSError as exc:
            self.state.fail(f"cannot run {self.argv[0]}: {exc.strerror}")
            self._changed()
            return False
        assert self.proc.stdout is not None and self.proc.stderr is not None
        err_task = asyncio.ensure_future(self._drain_stderr(self.proc.stderr))
        good = False
        try:
            good = await self._read_lines(self.proc.stdout)
        finally:
            rc = await self._end_process()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._discard(self.proc.stdout), 2.0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(err_task, 2.0)
        if not self._stopping and not self._failed:
            self.state.fail(classify_exit(rc, self._stderr), DOWN)
        self._changed()
        return good

    def _fail(self, message: str, status: str) -> None:
        self._failed = True
        self.state.fail(message, status)

    async def _read_lines(self, stdout: asyncio.StreamReader) -> bool:
        good = False
        timeout = self.first_line_timeout
        last_accept = 0.0
        while not self._stopping:
            wait = last_accept + 0.9 * self.interval - time.monotonic()
            if wait > 0:  # a remote faster than the interval is held back by the pipe
                await asyncio.sleep(wait)
            try:
                line = await self._readline(stdout, timeout)
            except asyncio.TimeoutError:
                what = "no answer" if not good else "stream went silent"
                self._fail(f"{what} for {timeout:.0f} s (timed out)", DOWN)
                return good
            except ValueError:  # LimitOverrunError: a line over the cap
                self._fail(f"bad stream: line longer than {MAX_LINE_BYTES} bytes", BAD)
                return good
            if not line:
                return good
            self.lines_read += 1
            try:
                tick = decode_line(line)
            except SchemaMismatch as exc:
                self._fail(str(exc), BAD)
                return good
            except ProtocolError as exc:
                self._fail(f"bad stream: {exc}", BAD)
                return good
            last_accept = time.monotonic()
            self.state.apply(tick, last_accept)
            good = True
            timeout = self.silence_timeout
            self._changed()
        return good

    async def _readline(self, stdout: asyncio.StreamReader, timeout: float) -> bytes:
        """A line, or TimeoutError after `timeout` s of silence (a timer handle per line: cheaper
        than a wait_for task per line across a hundred hosts)."""
        silenced: list[bool] = []

        def on_silence() -> None:
            silenced.append(True)
            if self.proc is not None and self.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()

        handle = asyncio.get_running_loop().call_later(timeout, on_silence)
        try:
            line = await stdout.readline()
        finally:
            handle.cancel()
        if silenced:
            raise asyncio.TimeoutError
        return line

    @staticmethod
    async def _discard(stdout: asyncio.StreamReader) -> None:
        """Read what a finished process left in the pipe, so its transport closes here."""
        while await stdout.read(1 << 16):
            pass

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
