"""`perftui web`: bad input is one line and exit 2; the real server starts, serves, binds loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from perftui.commands.web_checks import public_url
from tests.polling import wait_for

RECORDING = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "base.sqlite"

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


def _one_line_exit_2(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("perftui: error: "), r.stderr
    assert all(w in r.stderr for w in words), r.stderr
    assert "Serving" not in r.stdout  # checked before textual-serve started


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--replay", "/nonexistent/run.sqlite"], ["--replay", "no such file"]),
        (["--replay", __file__], ["--replay", "not a perftui recording"]),
        (["--replay", str(RECORDING), "--", "--speed", "1000"], ["--speed"]),
        (["--", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["--", "--interval", "0"], ["--interval"]),
        (["--", "--theme", "no-such-theme"], ["unknown theme"]),
        (["--", "snapshot"], ["not the command 'snapshot'"]),
        (["--", "--record", "x.sqlite"], ["--record"]),
        (["--listen", "127.0.0.1:0"], ["not 0"]),
        (["--public-url", "ftp://example.org"], ["--public-url"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0].startswith("-") else None,
)
def test_what_a_tab_would_refuse_is_one_line_exit_2_before_serving(
    args: list[str], words: list[str], tmp_path: Path
) -> None:
    port = _free_port()
    r = subprocess.run(
        [sys.executable, "-m", "perftui", "web", "--listen", f"127.0.0.1:{port}", *args],
        capture_output=True,
        text=True,
        timeout=30,  # a served command would run on: the timeout fails the test
        cwd=tmp_path,
    )
    _one_line_exit_2(r, *words)
    assert list(tmp_path.iterdir()) == []


def test_without_textual_serve_the_message_names_the_extra() -> None:
    hide = (
        "import sys; sys.modules['textual_serve'] = None\n"  # what find_spec reports for a missing package
        "from perftui.cli import main; sys.exit(main(['web']))"
    )
    r = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=30)
    _one_line_exit_2(r, "pip install 'perftui[web]'")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may bind privileged ports")
def test_privileged_port_is_one_line_exit_2() -> None:
    _one_line_exit_2(_perftui("--listen", "127.0.0.1:81"), "privileges")


def test_public_url_never_sends_browsers_to_a_wildcard_address() -> None:
    for wildcard in ("0.0.0.0", "::"):
        url = public_url(wildcard, 8000, None)
        assert re.fullmatch(r"http://\S+:8000", url) and "0.0.0.0" not in url and "[::]" not in url, url
    assert public_url("::1", 8000, None) == "http://[::1]:8000"
    assert public_url("127.0.0.1", 8000, None) == "http://127.0.0.1:8000"
    assert (
        public_url("0.0.0.0", 8000, "https://gpu.example.org/perftui/") == "https://gpu.example.org/perftui"
    )


@contextmanager
def _served(*args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "perftui", "web", "--listen", f"127.0.0.1:{port}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ps = psutil.Process(proc.pid)
        up = wait_for(lambda: any(c.status == psutil.CONN_LISTEN for c in ps.net_connections("inet")), 20)
        assert up, "perftui web never listened"
        yield port, proc
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def _page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
        return str(resp.read().decode())


def test_public_url_is_what_the_page_connects_to() -> None:
    with _served("--public-url", "https://gpu.example.org/", "--", "--no-gpu") as (port, _):
        page = _page(port)
    assert "wss://gpu.example.org/ws" in page and "0.0.0.0" not in page


def test_a_real_recording_passes_the_checks_and_is_served() -> None:
    with _served("--replay", str(RECORDING)) as (port, _):
        assert f"ws://127.0.0.1:{port}/ws" in _page(port)
