"""A hostile name through every face: no control character reaches a terminal or a report raw.

The names enter the way they do in life: a real child process whose comm and argv hold escapes,
a NIC in /proc/net/dev named with escapes (a fake /proc), py-spy output with escaped function and
file names, and a recording whose host, GPU name, keys, evidence and tables hold them. Each face
shows them as visible escapes (`\\x1b...`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.cli import main
from perftui.commands.snapshot import render_text, to_json
from perftui.samplers.net import NetSampler
from perftui.samplers.process import ProcessSampler
from perftui.samplers.pyspy import parse_dump_json, parse_raw
from perftui.store.metric_store import MetricStore
from perftui.store.reader import open_recording
from tests.fixtures.bad_files import FIXTURES
from tests.fixtures.hostile import HOSTILE, OSC52, SHOWN, hostile_recording, raw_controls_in
from tests.polling import wait_for

DEV_HEAD = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo "
    "colls carrier compressed\n"
)


def _fake_proc(tmp_path: Path, rx: int) -> Path:
    root = tmp_path / "proc"
    (root / "net").mkdir(parents=True, exist_ok=True)
    line = f"{HOSTILE}: {rx} 10 0 0 0 0 0 0 {rx} 10 0 0 0 0 0 0\n"
    (root / "net" / "dev").write_text(DEV_HEAD + line, encoding="utf-8")
    return root


def _net_store(tmp_path: Path) -> MetricStore:
    clock = iter([0.0, 1.0]).__next__
    sampler = NetSampler(
        proc_root=str(_fake_proc(tmp_path, 1000)), sys_root=str(tmp_path / "sys"), clock=clock
    )
    store = MetricStore()
    store.append(100.0, sampler.sample())
    _fake_proc(tmp_path, 5000)
    store.append(101.0, sampler.sample())
    for k, v in sampler.details().items():
        store.set_detail(k, v)
    return store


@pytest.fixture
def hostile_child() -> Iterator[int]:
    """A real process that names itself with an escape sequence (comm) and carries one in argv."""
    code = "import sys,time; open('/proc/self/comm','w').write(sys.argv[1][:15]); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code, HOSTILE, OSC52])
    try:
        wait_for(lambda: b"\x1b" in Path(f"/proc/{child.pid}/comm").read_bytes(), timeout=10)
        yield child.pid
    finally:
        child.kill()
        child.wait()


def test_process_sampler_cleans_comm_and_cmdline(hostile_child: int) -> None:
    sampler = ProcessSampler(hostile_child)
    sampler.sample()
    text = json.dumps(dict(sampler.details()), ensure_ascii=False, default=str)
    assert "\\\\x1b]0;PWNED" in text  # the escape, shown as text (JSON doubles the backslash)
    assert not raw_controls_in(text)


def test_snapshot_text_and_json_show_a_hostile_nic_name_escaped(tmp_path: Path) -> None:
    store = _net_store(tmp_path)
    text = render_text(store)
    assert f"net.{SHOWN}" in text and not raw_controls_in(text)
    data = json.dumps(to_json(store), ensure_ascii=False)
    assert not raw_controls_in(data)


def test_stack_parsers_clean_function_file_and_thread_names() -> None:
    raw = f"thread (0x1): {HOSTILE};{OSC52 * 500} (/x/{HOSTILE}.py:3);leaf (a.py:1) 7\n"
    dump = json.dumps(
        [
            {
                "pid": 1,
                "os_thread_id": 1,
                "thread_name": HOSTILE,
                "frames": [{"name": OSC52, "filename": HOSTILE}],
            }
        ]
    )
    for threads in (parse_raw(raw, pid=1), parse_dump_json(dump)):
        for t in threads:
            names = [t.thread_name, *(f.name for f in t.frames), *(f.filename for f in t.frames)]
            assert names and not any(raw_controls_in(n) for n in names)
            assert all(len(n) <= 4096 for n in names)  # OSC 52 payloads of any length are cut


def test_recording_reader_cleans_every_string(tmp_path: Path) -> None:
    rec = open_recording(hostile_recording(tmp_path))
    everything = json.dumps(
        [
            rec.meta,
            rec.units,
            list(rec.series),
            [d.value for d in rec.details],
            [s.reason for s in rec.statuses],
        ],
        ensure_ascii=False,
        default=str,
    ) + "".join(f"{e.title}{e.evidence}" for e in rec.timeline)
    assert not raw_controls_in(everything)
    assert rec.meta["host"].startswith(SHOWN)


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_report_formats(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = hostile_recording(tmp_path)
    assert main(["report", str(path), "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")]) == 0
    capsys.readouterr()
    text = (tmp_path / f"r.{fmt}").read_text(encoding="utf-8")
    assert not raw_controls_in(text.replace("\n", "").replace("\t", ""))
    assert "hunter2" not in text
    if fmt == "md":
        assert "\\<b\\>" in text and "[x\\](http://e)" in text and "<script>" not in text
    if fmt == "html":
        assert "<script>\\x1b" not in text and "&lt;script&gt;" in text


def test_report_markdown_on_stdout_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = hostile_recording(tmp_path)
    assert main(["report", str(path), "--no-diagnosis"]) == 0
    out = capsys.readouterr().out
    assert SHOWN.replace("\\", "\\\\") in out  # Markdown escapes the backslash: a viewer shows SHOWN
    assert not raw_controls_in(out.replace("\n", ""))
    for fmt in ("md", "json"):
        assert main(["compare", str(FIXTURES / "base.sqlite"), str(path), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert not raw_controls_in(out.replace("\n", ""))


async def test_dashboard_shows_hostile_names_escaped(tmp_path: Path, hostile_child: int) -> None:
    from tests.ui.conftest import make_app

    app, store, _ = make_app(0)
    for key, (ts, vals) in {k: _net_store(tmp_path).series(k) for k in _net_store(tmp_path)}.items():
        store.extend(key, ts, vals)
    proc = ProcessSampler(hostile_child)
    proc.sample()
    for name, value in proc.details().items():
        store.set_detail(name, value)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.export_screenshot()
    assert not raw_controls_in(screen.replace("\n", "").replace("\t", "").replace("\r", ""))


async def test_replay_shows_hostile_host_escaped(tmp_path: Path) -> None:
    from perftui.ui.app import create_replay_app
    from perftui.ui.options import AppOptions, TestKnobs
    from perftui.ui.replay import ReplayDriver
    from perftui.ui.widgets.header import HeaderBar

    rec = open_recording(hostile_recording(tmp_path))
    app = create_replay_app(
        ReplayDriver(rec, speed=1.0), AppOptions(theme="perftui-dark"), TestKnobs(live_timer=False)
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.dashboard.replay_step(30.0)
        await pilot.pause()
        header = app.query_one(HeaderBar).text
        screen = app.export_screenshot()
    assert SHOWN in header
    assert not raw_controls_in(header + screen.replace("\n", "").replace("\t", "").replace("\r", ""))
