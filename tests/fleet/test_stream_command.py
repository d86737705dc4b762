"""`perftui stream` as a process: lines, host facts, schema, stops when stdin closes; --record."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from perftui.fleet.hosts import SshOptions
from perftui.fleet.monitor import FleetMonitor
from perftui.fleet.protocol import SCHEMA_VERSION, decode_line
from perftui.fleet.state import UP
from perftui.store.reader import open_recording

STREAM = [sys.executable, "-m", "perftui", "stream", "--no-gpu"]


def test_stream_lines_until_stdin_closes() -> None:
    p = subprocess.Popen(
        [*STREAM, "--interval", "0.3"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None and p.stdin is not None
    try:
        first = json.loads(p.stdout.readline())
        second = decode_line(p.stdout.readline())
        assert first["schema"] == SCHEMA_VERSION and first["seq"] == 0
        assert first["host"]["perftui"] and first["host"]["gpus"] == []
        assert first["units"]["cpu.util"] == "%" and isinstance(first["values"]["cpu.util"], float)
        assert first["sources"] and all(isinstance(s["available"], bool) for s in first["sources"].values())
        assert first["verdict"]["verdict"] and first["verdict"]["confidence"] in ("high", "medium", "low")
        assert second.seq == 1 and second.host is None and "cpu.util" in second.values
        t0 = time.monotonic()
        p.stdin.close()
        assert p.wait(10) == 0
        assert time.monotonic() - t0 < 5
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_stream_refuses_bad_interval() -> None:
    r = subprocess.run(
        [*STREAM, "--interval", "0"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--interval" in r.stderr and r.stdout == ""


async def test_record_dir_writes_a_normal_recording(tmp_path: Path) -> None:
    opts = SshOptions(interval=0.3)
    mon = FleetMonitor(
        ["local"], opts, argv_for=lambda h: [*STREAM, "--interval", "0.3"], record_dir=tmp_path
    )
    mon.start()
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and mon.states["local"].ticks < 4:
            await asyncio.sleep(0.05)
        assert mon.states["local"].status == UP
    finally:
        await mon.stop()
    (path,) = mon.recordings()
    rec = open_recording(path)
    assert "cpu.util" in rec.keys and rec.series["cpu.util"][0].size >= 3
    assert rec.meta["fleet_host"] == "local" and rec.meta["perftui"]
    assert rec.timeline and rec.timeline[0].verdict
