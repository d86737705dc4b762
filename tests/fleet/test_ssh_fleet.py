"""The fleet against a real OpenSSH server on 127.0.0.1, the remote command being this checkout's perftui.

Aliases in a private ssh_config stand for hosts. Failures are rows: a closed port, a port that
accepts and never speaks, an unknown host key, a refused key, perftui missing; a remote stream
stopped (stale) or killed (down) comes back by itself.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from textual.widgets import Static

from perftui.fleet import state as state_mod
from perftui.fleet.hosts import SshOptions, ssh_argv
from perftui.fleet.monitor import FleetMonitor
from perftui.fleet.protocol import Verdict, encode_tick
from perftui.fleet.state import STALE, UP
from perftui.ui.fleet.app import FleetApp
from perftui.ui.fleet.host_screen import HostDashboardScreen
from perftui.ui.fleet.table import FleetTable
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.fleet.sshd import PERFTUI_CMD, Sshd, _keygen, free_port


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    yield int(srv.getsockname()[1])
    srv.close()


@pytest.fixture(scope="module")
def config(sshd: Sshd, silent_port: int) -> Path:
    stranger = sshd.root / "id_stranger"
    if not stranger.exists():
        _keygen(stranger)
    (sshd.root / "empty_known_hosts").write_text("")
    blocks: dict[str, dict[str, str | int]] = {
        "alpha": {},
        "beta": {},
        "nokey": {"UserKnownHostsFile": str(sshd.root / "empty_known_hosts")},
        "stranger": {"IdentityFile": str(stranger)},
        "closed": {"Port": free_port()},
        "silent": {"Port": silent_port},
    }
    blocks |= {f"light{i:02d}": {} for i in range(48)}
    return sshd.write_config(blocks)


def _fleet_json(config: Path, *hosts: str, remote: str = PERFTUI_CMD) -> list[dict]:  # type: ignore[type-arg]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "perftui",
            "fleet",
            "--json",
            "-F",
            str(config),
            "--interval",
            "0.5",
            "--connect-timeout",
            "2",
            "--no-gpu",
            "--remote-cmd",
            remote,
            *hosts,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert r.stderr == ""
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_json_rows_and_failures(config: Path) -> None:
    t0 = time.monotonic()
    rows = {r["name"]: r for r in _fleet_json(config, "alpha", "nokey", "stranger", "closed", "silent")}
    assert time.monotonic() - t0 < 30
    alpha = rows["alpha"]
    assert alpha["status"] == "up" and alpha["verdict"] and alpha["confidence"] in ("high", "medium", "low")
    assert alpha["host_facts"]["perftui"] and alpha["cpu"] is not None
    assert rows["nokey"]["error"].startswith("host key unknown")
    assert (
        rows["stranger"]["error"].startswith("auth refused")
        and "Permission denied" in rows["stranger"]["error"]
    )
    assert "Connection refused" in rows["closed"]["error"]
    assert "timed out" in rows["silent"]["error"]
    for r in rows.values():
        assert "\n" not in (r["error"] or "")


def test_perftui_missing_on_the_host(config: Path) -> None:
    (row,) = _fleet_json(config, "alpha", remote="/nonexistent/bin/perftui")
    assert row["status"] == "down" and "pipx install perftui" in row["error"]


def _remote_streams(sshd: Sshd) -> list[psutil.Process]:
    out = []
    for p in psutil.Process(sshd.proc.pid).children(recursive=True):
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if "perftui" in cmd and "stream" in cmd:
            out.append(p)
    return out


async def _until(cond, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return bool(cond())


async def test_stream_stopped_goes_stale_then_reconnects(sshd: Sshd, config: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(state_mod, "STALE_MIN_S", 1.0)
    opts = SshOptions(
        ssh_config=str(config), interval=0.3, connect_timeout=3, no_gpu=True, remote_cmd=PERFTUI_CMD
    )
    assert await _until(lambda: not _remote_streams(sshd), 15)  # earlier tests' streams have ended
    mon = FleetMonitor(["alpha"], opts, silence_timeout=3.0)
    st = mon.states["alpha"]
    mon.start()
    try:
        assert await _until(lambda: st.status == UP and st.verdict is not None)
        (remote,) = _remote_streams(sshd)
        remote.send_signal(signal.SIGSTOP)
        assert await _until(lambda: (mon.refresh(), st.status == STALE)[1], 10)
        assert st.error is not None and st.error.startswith("no data for")
        assert await _until(lambda: st.connects >= 2 and st.status == UP, 30)  # silence → restart
        remote.send_signal(signal.SIGKILL)
        new = _remote_streams(sshd)
        assert new and new[0].pid != remote.pid
        new[0].kill()  # killed mid-run: down, then back
        assert await _until(lambda: st.status != UP, 10)
        assert await _until(lambda: st.connects >= 3 and st.status == UP, 30)
    finally:
        await mon.stop()
    assert await _until(lambda: not _remote_streams(sshd), 10)


async def test_fleet_screen_over_ssh_with_detail(config: Path) -> None:
    opts = SshOptions(
        ssh_config=str(config), interval=0.5, connect_timeout=3, no_gpu=True, remote_cmd=PERFTUI_CMD
    )
    app = FleetApp(
        lambda on_change: FleetMonitor(["alpha", "closed"], opts, on_change=on_change), refresh_s=0.2
    )
    async with app.run_test(size=(160, 30)) as pilot:
        assert app.monitor is not None
        mon = app.monitor
        assert await _until(lambda: mon.states["alpha"].verdict is not None and mon.states["closed"].error)
        await pilot.pause(0.3)
        table = app.query_one(FleetTable)
        cells = {
            str(table.get_row_at(i)[0]).strip("▸▾ "): [str(c) for c in table.get_row_at(i)] for i in range(2)
        }
        assert "Connection refused" in cells["closed"][7]
        assert "(" in cells["alpha"][7]  # verdict (confidence)
        assert "1 up, 1 down" in str(app.query_one("#fleet-summary", Static).render())
        table.move_cursor(row=[r.name for r in app.rows].index("alpha"))
        await pilot.press("enter")
        await pilot.pause()
        board = app.screen
        assert isinstance(board, HostDashboardScreen) and board.host_session.state.name == "alpha"
        assert {"cpu", "memory"} <= {p.id for p in board.query(MetricPanel)}
        # the remote's samples reach the panels: CPU history grows while the view is open
        seen = mon.states["alpha"].store.series("cpu.util")[0].size
        assert await _until(lambda: mon.states["alpha"].store.series("cpu.util")[0].size > seen + 1, 15)
        board.refresh_view()
        assert "%" in "\n".join(board.query_one("#cpu", MetricPanel).plain_lines())
        assert board.query_one(HeaderBar).text.startswith("FLEET alpha · up · read-only")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.id == "fleet"


async def test_fifty_aliases_at_once(sshd: Sshd, config: Path, tmp_path: Path) -> None:
    """48 aliases run a lightweight remote stream (a shell loop printing valid lines) and 2 run perftui:
    50 python streams would be too heavy for a 2-core CI box; the ssh side is the same."""
    line = encode_tick(
        0, time.time(), 1.0, {"cpu.util": 3.0}, {}, Verdict("idle", "low", "idle", "CPU 3 %"), {}
    )
    script = tmp_path / "fake-perftui"
    script.write_text(f"#!/bin/sh\nwhile :; do printf '%s\\n' '{line}'; sleep 1; done\n")
    script.chmod(0o755)
    real = SshOptions(
        ssh_config=str(config), interval=1.0, connect_timeout=5, no_gpu=True, remote_cmd=PERFTUI_CMD
    )
    light = SshOptions(ssh_config=str(config), interval=1.0, connect_timeout=5, remote_cmd=str(script))
    hosts = ["alpha", "beta"] + [f"light{i:02d}" for i in range(48)]
    assert await _until(lambda: not _remote_streams(sshd), 15)
    mon = FleetMonitor(hosts, real, argv_for=lambda h: ssh_argv(h, real if h in ("alpha", "beta") else light))
    mon.start()
    try:
        ok = await _until(lambda: all(s.status == UP for s in mon.states.values()), 60)
        assert ok, {h: (s.status, s.error) for h, s in mon.states.items() if s.status != UP}
    finally:
        await mon.stop()
    assert await _until(lambda: not _remote_streams(sshd), 10)
