"""HostStream against real local processes standing in for ssh: floods, huge and malformed lines,
silence, a stream that dies and comes back (reconnect with backoff)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path

from perftui.fleet import reader as reader_mod
from perftui.fleet.protocol import MAX_LINE_BYTES, Verdict, encode_tick
from perftui.fleet.reader import HostStream
from perftui.fleet.state import BAD, DOWN, UP, HostState

LINE = encode_tick(0, 1.0, 0.2, {"cpu.util": 5.0}, {}, Verdict("idle", "low"), {"host": "x"})


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def _until(cond, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.02)
    return bool(cond())


async def test_flooding_remote_is_read_at_the_interval() -> None:
    code = f"import sys\nline = {LINE!r} + '\\n'\nwhile True: sys.stdout.write(line)"
    st = HostState("flood")
    s = HostStream(st, _py(code), interval=0.25, reconnect=False)
    task = asyncio.ensure_future(s.run())
    await asyncio.sleep(1.5)
    assert st.status == UP
    assert 2 <= s.lines_read <= 8  # ~1.5 s / 0.25 s, not the hundreds of thousands written
    await s.stop()
    await task
    assert s.proc is not None and s.proc.returncode is not None


async def test_huge_line_marks_host_bad() -> None:
    code = (
        f"import sys, time\nsys.stdout.write('{{' + 'x' * {MAX_LINE_BYTES + 10})\n"
        "sys.stdout.flush()\ntime.sleep(30)"
    )
    st = HostState("huge")
    s = HostStream(st, _py(code), interval=0.2, reconnect=False)
    await asyncio.wait_for(s.run(), 15)
    assert st.status == BAD and "longer than" in (st.error or "")


async def test_malformed_line_marks_host_bad() -> None:
    st = HostState("junk")
    s = HostStream(st, _py("print('rm -rf / ; $(reboot)')"), interval=0.2, reconnect=False)
    await asyncio.wait_for(s.run(), 15)
    assert st.status == BAD and st.error == "bad stream: malformed JSON line"


async def test_silent_remote_times_out() -> None:
    st = HostState("silent")
    s = HostStream(
        st, _py("import time; time.sleep(30)"), interval=0.2, first_line_timeout=0.5, reconnect=False
    )
    t0 = time.monotonic()
    await asyncio.wait_for(s.run(), 15)
    assert time.monotonic() - t0 < 5
    assert st.status == DOWN and "timed out" in (st.error or "")


async def test_missing_command_says_install(tmp_path: Path) -> None:
    st = HostState("nope")
    s = HostStream(st, ["sh", "-c", "exec /nonexistent/perftui stream"], interval=0.2, reconnect=False)
    await asyncio.wait_for(s.run(), 15)
    assert st.status == DOWN and "pipx install perftui" in (st.error or "")


async def test_stream_that_dies_reconnects_with_backoff(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reader_mod, "BACKOFF_MIN_S", 0.2)
    counter = tmp_path / "n"
    code = (
        "import sys, time, pathlib\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) if p.exists() else 0\np.write_text(str(n + 1))\n"
        f"for _ in range(3):\n    print({LINE!r}, flush=True); time.sleep(0.2)\n"
        "sys.exit(1)"
    )
    changes: list[str] = []
    st = HostState("flaky")
    s = HostStream(st, _py(code), interval=0.2, on_change=lambda h: changes.append(f"{h.status} {h.error}"))
    task = asyncio.ensure_future(s.run())
    assert await _until(lambda: st.connects >= 2 and st.status == UP)
    assert "down stream ended (exit 1)" in changes
    await s.stop()
    await task
    assert int(counter.read_text()) >= 2


async def test_newer_remote_schema_is_named() -> None:
    line = LINE.replace('"schema":1', '"schema":7')
    st = HostState("future")
    s = HostStream(st, _py(f"print({line!r}, flush=True)"), interval=0.2, reconnect=False)
    await asyncio.wait_for(s.run(), 15)
    assert st.status == BAD and "schema 7" in (st.error or "") and "newer" in (st.error or "")


def test_grid_instants_are_shared_and_never_before_earliest() -> None:
    from perftui.fleet.reader import grid_at

    assert grid_at(10.01, 10.01, 0.5) == 10.5
    assert grid_at(10.01, 11.2, 0.5) == 11.5
    assert grid_at(10.5, 10.5, 0.5) == 10.5  # on the grid: now
    assert {grid_at(t, t, 0.25) for t in (3.01, 3.1, 3.2, 3.24)} == {3.25}


def test_take_line_joins_reads_holds_the_rest_and_caps(tmp_path: Path) -> None:
    import os

    from perftui.fleet.reader import take_line

    r, w = os.pipe()
    os.set_blocking(r, False)
    buf = bytearray()
    try:
        assert take_line(r, buf) == (None, False)  # nothing yet, writer open
        os.write(w, b'{"a":')
        assert take_line(r, buf) == (None, False) and bytes(buf) == b'{"a":'
        os.write(w, b'1}\n{"b":2}\n{"c"')
        assert take_line(r, buf) == (b'{"a":1}\n', False)
        assert take_line(r, buf) == (b'{"b":2}\n', False)
        os.close(w)
        assert take_line(r, buf) == (b'{"c"', False)  # the last line, its newline missing
        assert take_line(r, buf) == (None, True)
        r2, w2 = os.pipe()
        os.set_blocking(r2, False)
        try:
            os.set_blocking(w2, False)
            big = bytearray()
            with contextlib.suppress(BlockingIOError):
                while len(big) <= MAX_LINE_BYTES + 1:
                    os.write(w2, b"x" * 65536)
                    big += take_line(r2, big)[0] or b""
            raise AssertionError("a line over the cap was not refused")
        except ValueError:
            pass
        finally:
            os.close(r2)
            os.close(w2)
    finally:
        os.close(r)


async def test_many_hosts_lines_are_read_at_few_shared_instants() -> None:
    """Thirty hosts streaming at 0.4 s: their lines are taken at the grid's instants (every 0.1 s at
    most), together, not one loop wake-up per line."""
    code = f"import time\nwhile True:\n    print({LINE!r}, flush=True)\n    time.sleep(0.4)\n"
    taken: list[float] = []
    streams = []
    for i in range(30):
        st = HostState(f"h{i}")
        streams.append(HostStream(st, _py(code), interval=0.4, reconnect=False))
    tasks = [asyncio.ensure_future(s.run()) for s in streams]
    try:
        assert await _until(lambda: all(s.lines_read >= 1 for s in streams), 20.0)
        for s in streams:
            s.on_change = lambda h: taken.append(time.monotonic())
        await asyncio.sleep(2.0)
        window = sorted(taken)  # these 2 s only (stopping takes a while)
    finally:
        for s in streams:
            await s.stop()
        await asyncio.gather(*tasks)
    instants = [t for i, t in enumerate(window) if i == 0 or t - window[i - 1] > 0.005]
    assert len(window) >= 90  # ~30 hosts x 2 s / 0.4 s
    assert len(instants) <= 25, (len(instants), len(window))  # <= 2 s / 0.1 s, with slack
