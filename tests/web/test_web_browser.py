"""`perftui web` in a real browser: Debian's headless Chromium loads the page, the terminal connects
and shows the dashboard, keys typed in the page reach perftui, file actions are refused unless
`--allow-actions`, each tab is its own perftui process and closing a tab ends it.

Skipped only where no Chromium is installed (`.ci/run` installs Debian's `chromium`). A screenshot
of the page is kept under the test's tmp_path (and `$PERFTUI_ARTIFACTS` when set).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.polling import wait_for
from tests.web.cdp import Browser, chromium_path, headless_chromium

pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install 'perftui[web]')")
CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebServer:
    def __init__(self, proc: subprocess.Popen[str], port: int, cwd: Path) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}/"
        self.cwd = cwd
        self.ps = psutil.Process(proc.pid)

    def listening(self) -> list[str]:
        return [c.laddr.ip for c in self.ps.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]

    def sessions(self) -> list[psutil.Process]:
        """The per-tab perftui processes textual-serve started (a shell may sit in between)."""
        out = []
        for child in self.ps.children(recursive=True):
            try:
                cmd = child.cmdline()
            except psutil.Error:
                continue
            if "perftui" in cmd and "web" not in cmd and child.status() != psutil.STATUS_ZOMBIE:
                out.append(child)
        return out


@contextmanager
def serving(tmp_path: Path, *extra: str) -> Iterator[WebServer]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "perftui", "web", "--listen", f"127.0.0.1:{port}", *extra, "--", "--no-gpu"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    server = WebServer(proc, port, tmp_path)
    tabs: list[psutil.Process] = []
    try:
        assert wait_for(server.listening, timeout=30), "perftui web never listened"
        yield server
        tabs = server.sessions()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    # stopping the server ends the tabs still open (textual-serve alone leaves them sampling the box)
    _, alive = psutil.wait_procs(tabs, timeout=15)
    assert alive == [], f"tab processes outlived the server: {alive}"


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with headless_chromium(CHROMIUM) as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WebServer]:
    with serving(tmp_path) as s:
        yield s


def _keep(tab_shot: Path) -> None:
    artifacts = os.environ.get("PERFTUI_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(tab_shot, Path(artifacts) / tab_shot.name)


def test_dashboard_renders_keys_work_and_file_actions_are_refused(
    server: WebServer, browser: Browser, tmp_path: Path
) -> None:
    assert server.listening() and all(ip == "127.0.0.1" for ip in server.listening())
    tab = browser.open(server.url)
    # The dashboard's own text, as the browser's terminal received it.
    assert wait_for(lambda: tab.shows("CPU", "Memory", "Network"), timeout=60), tab.screen_text()[-2000:]
    shot = tmp_path / "web-dashboard.png"
    tab.screenshot(shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    _keep(shot)

    tab.press("?")  # the help screen: proves a key typed in the page reaches perftui
    assert wait_for(lambda: tab.shows("closes this screen"), timeout=30), tab.screen_text()[-2000:]
    tab.press("q")  # leaves help (q closes the help screen before it quits)
    tab.press("r")  # record: writes a file on the box, so off in browser mode
    assert wait_for(lambda: tab.shows("browser mode"), timeout=30), tab.screen_text()[-2000:]
    assert not list(tmp_path.glob("*.sqlite"))


def test_allow_actions_lets_a_tab_record(tmp_path: Path, browser: Browser) -> None:
    with serving(tmp_path, "--allow-actions") as server:
        tab = browser.open(server.url)
        assert wait_for(lambda: tab.shows("CPU"), timeout=60)
        tab.press("r")
        assert wait_for(lambda: list(tmp_path.glob("*.sqlite")), timeout=30), tab.screen_text()[-2000:]
        assert "browser mode" not in tab.screen_text()


def test_two_tabs_are_two_sessions_and_closing_one_ends_it(server: WebServer, browser: Browser) -> None:
    first = browser.open(server.url)
    second = browser.open(server.url)
    assert wait_for(lambda: first.shows("CPU") and second.shows("CPU"), timeout=90)
    assert wait_for(lambda: len(server.sessions()) == 2, timeout=30), server.sessions()
    pids = {p.pid for p in server.sessions()}
    second.close()
    assert wait_for(lambda: len(server.sessions()) == 1, timeout=30), server.sessions()
    assert {p.pid for p in server.sessions()} < pids
