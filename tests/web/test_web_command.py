"""`perftui web`: bad input is one line and exit 2; the real server starts, serves, binds loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

import psutil
import pytest

from tests.polling import wait_for

pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install 'perftui[web]')")


def _perftui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perftui", "web", *args], capture_output=True, text=True, timeout=30
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_malformed_listen_is_one_line_exit_2() -> None:
    r = _perftui("--listen", "nonsense")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "HOST:PORT" in r.stderr


def test_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = _perftui("--listen", f"127.0.0.1:{port}")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot listen" in r.stderr


def test_serves_the_page_on_loopback_and_prints_the_tunnel() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "perftui", "web", "--listen", f"127.0.0.1:{port}", "--", "--no-gpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ps = psutil.Process(proc.pid)

        def listening() -> list[tuple[str, int]]:
            return [
                (c.laddr.ip, c.laddr.port)
                for c in ps.net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            ]

        assert wait_for(lambda: listening(), timeout=20), "perftui web never listened"
        assert all(ip == "127.0.0.1" for ip, _ in listening())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            page = resp.read().decode()
        assert "perftui" in page and "ws" in page  # the textual-serve page that opens the terminal socket
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"ssh -L {port}:127.0.0.1:{port} HOST" in out
