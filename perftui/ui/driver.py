"""A Linux terminal driver whose input thread sleeps until there is input.

Textual's LinuxDriver waits for stdin with a 0.1 s timeout, so that it notices shutdown and can
turn a lone Escape into a key once the parser's timeout passes: ten wake-ups a second whether or
not a key is pressed. On the 2-core VM we measure on, a thread's wake-up costs ~0.15-0.2 ms of
CPU, so that loop alone was 0.2 % of a core — a fifth of the dashboard's whole budget. This
driver blocks until input arrives, polls only while the parser holds a partial escape sequence,
and is woken for shutdown (or suspend) through a pipe that setting `exit_event` writes to.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from perftui.ui import textual_compat

PENDING_POLL_S = 0.1  # while an escape sequence is incomplete: Textual's own polling period


class _WakingEvent(threading.Event):
    """An Event that also writes a byte to a pipe when set, to wake a thread blocked in select."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # closed, or full: the thread is awake anyway
            os.write(self._wake_fd, b"x")


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver with an input thread that does not wake while nothing happens."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.exit_event = _WakingEvent(self._wake_w)
        self.input_wakeups = 0  # times the input thread woke up (tests)

    def run_input_thread(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        parser = textual_compat.xterm_parser(textual_compat.driver_debug(self))
        decode = getincrementaldecoder("utf-8")().decode

        def emit(events: Any) -> None:
            for event in events:
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                # The parser sets `_timeout_time` while it waits to see whether an Escape starts a
                # sequence; poll then, as Textual does. (Unknown parser: always poll.)
                waiting = textual_compat.parser_waiting(parser)
                ready = selector.select(PENDING_POLL_S if waiting else None)
                self.input_wakeups += 1
                for key, _mask in ready:
                    if key.fd == self._wake_r:
                        self._drain_wake_pipe()
                        continue
                    data = decode(os.read(self.fileno, 4096))
                    if data:
                        emit(parser.feed(data))
                    else:  # end of input (stdin is not a terminal): stop watching it
                        selector.unregister(self.fileno)
                emit(parser.tick())
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):  # end of input: what is left is dropped, as in Textual
                    pass
            except Exception:
                pass

    def _drain_wake_pipe(self) -> None:
        try:
            while os.read(self._wake_r, 64):
                pass
        except OSError:  # empty (EAGAIN) or closed
            pass

    def close(self) -> None:
        super().close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
