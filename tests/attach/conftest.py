"""Real child processes for the attach tests: each prints "ready" once set up."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from attach_workloads import fs_type

Spawn = Callable[..., subprocess.Popen[str]]


def wait_until_blocked(pid: int, timeout: float = 10.0) -> None:
    """Until the process sleeps in the kernel (a workload that printed "ready" just before a blocking
    call: the socket client's recv)."""
    from tests.polling import wait_for

    assert wait_for(lambda: psutil.Process(pid).status() == psutil.STATUS_SLEEPING, timeout), pid


def wait_until_zombie(pid: int, timeout: float = 10.0) -> None:
    """Until a killed child of ours is a zombie (dead, not reaped yet)."""
    from tests.polling import wait_for

    assert wait_for(lambda: psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, timeout), pid


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    procs: list[subprocess.Popen[str]] = []

    def _spawn(code: str, *args: str, ready_timeout: float = 10.0) -> subprocess.Popen[str]:
        p = subprocess.Popen(
            [sys.executable, "-u", "-c", textwrap.dedent(code), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        procs.append(p)
        assert p.stdout is not None
        deadline = time.monotonic() + ready_timeout
        line = p.stdout.readline()
        assert line.strip() == "ready", f"child did not start: {line!r}"
        assert time.monotonic() < deadline
        return p

    yield _spawn
    for p in procs:
        # the whole tree: a SIGKILLed parent leaves its forked workers running otherwise
        try:
            kids = psutil.Process(p.pid).children(recursive=True)
        except psutil.Error:
            kids = []
        for k in kids:
            with contextlib.suppress(psutil.Error):
                k.kill()
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)
        if p.stdout:
            p.stdout.close()


@pytest.fixture
def slow_server() -> Iterator[int]:
    """A local HTTP server that accepts and then does not answer until the test ends."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            conns.append(c)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in conns:
        c.close()
    srv.close()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """64 MiB of random bytes on a real filesystem (reads from tmpfs never wait for a disk)."""
    base = tmp_path_factory.mktemp("disk")
    if fs_type(base) in ("tmpfs", "ramfs"):
        pytest.skip(f"{base} is on {fs_type(base)}: reads never reach a disk there")
    path = base / "big.bin"
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(64):
            f.write(block)
    yield path
    path.unlink(missing_ok=True)
