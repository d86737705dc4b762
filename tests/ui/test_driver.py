"""perftui's Linux driver: keys arrive, a lone Escape still becomes a key, the input thread
sleeps while nothing happens, and shutdown wakes it (a real pty and a real thread)."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import sys
import threading
import tty
from typing import Any

import pytest
from textual import events

from tests.polling import wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux driver")


async def _exercise() -> None:
    from perftui.ui.driver import QuietLinuxDriver

    keys: list[str] = []

    class Driver(QuietLinuxDriver):
        def process_message(self, message: Any) -> None:  # collect instead of posting to an app
            if isinstance(message, events.Key):
                keys.append(message.key)

    master, slave = pty.openpty()
    tty.setraw(slave)  # as the driver sets it when the app starts: bytes arrive one by one
    old = {s: signal.getsignal(s) for s in (signal.SIGTSTP, signal.SIGCONT)}
    try:
        driver = Driver(object())
        driver.fileno = slave
        thread = threading.Thread(target=driver.run_input_thread, daemon=True)
        thread.start()
        # Textual's driver would wake five times in 0.5 s
        assert not wait_for(lambda: driver.input_wakeups > 0, timeout=0.5)
        os.write(master, b"q")
        assert wait_for(lambda: keys == ["q"])
        os.write(master, b"\x1b")  # a lone Escape: a key only once the parser's timeout passes
        assert wait_for(lambda: keys == ["q", "escape"]), keys
        settled = driver.input_wakeups
        assert not wait_for(lambda: driver.input_wakeups > settled, timeout=0.5)  # asleep again
        driver.exit_event.set()
        thread.join(5)
        assert not thread.is_alive()
        driver.close()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for fd in (master, slave):
            os.close(fd)


def test_quiet_driver_reads_keys_and_sleeps_between_them() -> None:
    asyncio.run(_exercise())


def test_the_app_uses_it_unless_textual_driver_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from perftui.store.metric_store import MetricStore
    from perftui.ui.app import create_app
    from perftui.ui.driver import QuietLinuxDriver

    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    assert create_app(MetricStore()).get_driver_class() is QuietLinuxDriver
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.linux_driver:LinuxDriver")
    assert create_app(MetricStore()).get_driver_class() is not QuietLinuxDriver


def test_the_fleet_app_uses_it_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fleet screen waits on 100 streams: Textual's input polling was a tenth of its CPU."""
    from perftui.ui.driver import QuietLinuxDriver
    from perftui.ui.fleet.app import FleetApp

    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    app = FleetApp(lambda on_change: None)  # type: ignore[arg-type,return-value]
    assert app.get_driver_class() is QuietLinuxDriver
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.linux_driver:LinuxDriver")
    assert app.get_driver_class() is not QuietLinuxDriver
