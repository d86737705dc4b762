"""Pilot tests of the process list (the process pane when nothing is attached): columns, sort, filter,
selection, exited processes, n/a fields, and the `k` confirmations against a real child process.

The tables are real ProcRow values (as the proctable sampler publishes them: dataclasses.asdict)."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perftui.core.types import SourceStatus
from perftui.samplers.proctable import ProcRow, start_ticks
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp, create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.screens.kill import KillScreen
from perftui.ui.widgets.process_pane import ProcessPane
from tests.polling import wait_for
from tests.ui.fakes import HOSTNAME, FakeClock, fill_store

GIB = 1024**3
IGNORE_TERM = (
    "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(0.05)\n"
)


def row(pid: int, name: str, cpu: float, rss_gib: float, **kw: Any) -> ProcRow:
    base: dict[str, Any] = {
        "pid": pid,
        "user": "ci",
        "name": name,
        "state": "R" if cpu > 50 else "S",
        "start_ticks": 1000 + pid,
        "cpu_pct": cpu,
        "rss_bytes": int(rss_gib * GIB),
        "disk_bps": 0.0,
        "container": "",
        "cmdline": name,
    }
    base.update(kw)
    return ProcRow(**base)


TABLE = [
    row(4242, "sha256sum", 99.0, 0.01, cmdline="sha256sum /data/big.iso"),
    row(4243, "sha256sum", 98.0, 0.01, cmdline="sha256sum /data/other.iso"),
    row(5001, "python", 40.0, 6.0, cmdline="python train.py", gpu_mem_bytes=30 * GIB, sm_pct=85.0),
    row(5002, "postgres", 5.0, 2.0, disk_bps=50e6, container="docker 3f2a9c1b7d4e"),
    row(6001, "bash", 0.0, 0.005, disk_bps=None),  # /proc/6001/io not readable: n/a
]


def publish(store: MetricStore, rows: list[ProcRow]) -> None:
    ts = (store.last_ts or 0.0) + 1.0
    store.set_status("proctable", SourceStatus.ok())
    ordered = sorted(rows, key=lambda r: -r.cpu_pct)
    store.set_detail("proctable", {"ts": ts, "rows": [dataclasses.asdict(r) for r in ordered]})
    store.append(ts, {"cpu.util": 50.0}, source="proctable")


def list_app(n_gpus: int = 1, rows: list[ProcRow] | None = None) -> tuple[PerftuiApp, MetricStore]:
    store = MetricStore()
    end = fill_store(store, n_gpus, seconds=30)
    publish(store, TABLE if rows is None else rows)
    knobs = TestKnobs(clock=FakeClock(end + 0.5), live_timer=False, use_tracker=False)
    options = AppOptions(hostname=HOSTNAME, theme="perftui-dark")
    # a live session (an idle runner): `a` may start the attach samplers beside it
    return create_app(store, SamplerRunner(store, []), options, knobs), store


def pane_of(app: PerftuiApp) -> ProcessPane:
    return app.query_one(ProcessPane)


def pids(app: PerftuiApp) -> list[int]:
    return [int(ln.split()[0]) for ln in pane_of(app).lines if ln.split() and ln.split()[0].isdigit()]


def selected(app: PerftuiApp) -> int | None:
    cur = pane_of(app).plist.current
    return None if cur is None else cur.pid


def notes_of(app: PerftuiApp) -> list[str]:
    seen: list[str] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append(message)
        original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


async def test_columns_by_cpu_with_gpu_container_and_na() -> None:
    app, _ = list_app(1)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        assert pane.listing and not pane.attached
        assert pane.border_title == "Processes (5) · by CPU"
        head = pane.lines[0]
        for col in ("PID", "USER", "CPU%", "RSS", "GPU mem", "SM%", "DISK", "CONTAINER", "COMMAND"):
            assert col in head
        assert pids(app) == [4242, 4243, 5001, 5002, 6001]
        by_pid = {int(ln.split()[0]): ln for ln in pane.lines[1:]}
        assert "30.0 GiB" in by_pid[5001] and " 85 " in by_pid[5001]
        assert "docker 3f2a9c1b7d4e" in by_pid[5002] and "MiB/s" in by_pid[5002]
        assert " n/a " in by_pid[6001]  # the io file the kernel would not give
        assert by_pid[4242].endswith("sha256sum /data/big.iso")


async def test_no_gpu_no_gpu_columns_and_sorts() -> None:
    rows = [dataclasses.replace(r, gpu_mem_bytes=None, sm_pct=None) for r in TABLE]
    app, _ = list_app(0, rows)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        assert "GPU mem" not in pane.lines[0] and "SM%" not in pane.lines[0]
        pane.focus()
        labels = []
        for _ in range(5):
            await pilot.press("o")
            await pilot.pause()
            labels.append(pane.plist.sort)
        assert labels == ["mem", "disk", "name", "cpu", "mem"]


async def test_sort_keys_memory_gpu_sm_disk_name() -> None:
    app, _ = list_app(1)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane_of(app).focus()
        orders = {}
        for _ in range(5):
            await pilot.press("o")
            await pilot.pause()
            orders[pane_of(app).plist.sort] = pids(app)
        assert orders["mem"] == [5001, 5002, 4242, 4243, 6001]
        assert orders["gpu"][0] == 5001 and orders["sm"][0] == 5001  # the others have none: last
        assert orders["disk"] == [5002, 4242, 4243, 5001, 6001]  # n/a last
        assert orders["name"] == [6001, 5002, 5001, 4242, 4243]
        assert pane_of(app).border_title == "Processes (5) · by name"


async def test_filter_typed_after_slash_and_cleared_by_escape() -> None:
    app, _ = list_app(1)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        pane.focus()
        await pilot.press("slash", "i", "s", "o")
        await pilot.pause()
        assert pane.lines[0].startswith("filter: iso")
        assert pids(app) == [4242, 4243] and str(pane.border_title).startswith("Processes (2/5)")
        await pilot.press("enter")  # keeps the filter; keys are keys again
        await pilot.press("down")
        await pilot.pause()
        assert pane.lines[0] == "filter: iso" and selected(app) == 4243
        await pilot.press("slash", "x", "y", "z")
        await pilot.pause()
        assert 'no process matches "isoxyz"' in pane.lines
        await pilot.press("escape")
        await pilot.pause()
        assert pids(app) == [4242, 4243, 5001, 5002, 6001] and not pane.plist.filter


async def test_selection_follows_the_process_and_an_exited_one_just_goes() -> None:
    app, store = list_app(1)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane_of(app).focus()
        await pilot.press("down", "down")
        await pilot.pause()
        assert selected(app) == 5001
        # 5001 exits; 4243 becomes busier than 4242: the rows reorder, nothing crashes
        publish(store, [dataclasses.replace(TABLE[1], cpu_pct=100.0), TABLE[0], *TABLE[3:]])
        app.dashboard.refresh_view()
        await pilot.pause()
        assert pids(app) == [4243, 4242, 5002, 6001] and selected(app) == 5002
        publish(store, [])  # all gone
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "no processes listed" in pane_of(app).lines and selected(app) is None
        await pilot.press("down", "a", "k")  # nothing selected: no attach, no dialog
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen)


@pytest.fixture
def stubborn() -> Iterator[subprocess.Popen[bytes]]:
    """A real process that ignores SIGTERM (only SIGKILL ends it)."""
    child = subprocess.Popen([sys.executable, "-c", IGNORE_TERM])
    yield child
    child.kill()
    child.wait()


def ignores_term(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(int(ln.split()[1], 16) for ln in status.splitlines() if ln.startswith("SigIgn:"))
    return bool(mask & (1 << (signal.SIGTERM - 1)))


def real_row(child: subprocess.Popen[bytes], name: str = "stubborn") -> ProcRow:
    start = start_ticks(child.pid)
    assert start is not None
    return row(child.pid, name, 120.0, 0.01, start_ticks=start, user="root")


async def test_kill_asks_naming_the_process_sigterm_then_twice_for_sigkill(
    stubborn: subprocess.Popen[bytes],
) -> None:
    # the handler must be installed before SIGTERM comes, or the default action ends it
    assert wait_for(lambda: ignores_term(stubborn.pid), timeout=10)
    app, _ = list_app(1, [real_row(stubborn), *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane_of(app).focus()
        assert selected(app) == stubborn.pid
        await pilot.press("k")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KillScreen) and f"stubborn (PID {stubborn.pid}, user root)" in screen.text
        assert "SIGTERM" in screen.text
        await pilot.press("n")  # cancelled: nothing sent
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen) and not notes
        await pilot.press("k", "y")
        await pilot.pause()
        assert notes[-1] == f"sent SIGTERM to stubborn (PID {stubborn.pid}, user root)"
        assert stubborn.poll() is None  # it ignores SIGTERM
        await pilot.press("k", "K")  # SIGKILL only after a second screen
        await pilot.pause()
        second = app.screen
        assert isinstance(second, KillScreen) and second.sigkill and "SIGKILL" in second.text
        assert stubborn.poll() is None
        await pilot.press("y")
        await pilot.pause()
        assert stubborn.wait(timeout=10) == -signal.SIGKILL
        assert notes[-1].startswith("sent SIGKILL to stubborn")


async def test_kill_of_a_reused_pid_is_refused_with_the_reason(stubborn: subprocess.Popen[bytes]) -> None:
    listed = dataclasses.replace(real_row(stubborn), start_ticks=real_row(stubborn).start_ticks - 5)
    app, _ = list_app(1, [listed])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane_of(app).focus()
        await pilot.press("k", "K", "y")
        await pilot.pause()
        assert "different process (the PID was reused)" in notes[-1] and "no SIGKILL sent" in notes[-1]
        assert stubborn.poll() is None
