"""The collector is held from the dashboard command's first line to its first frame, then frozen and on."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from perftui.cli import main
from perftui.core import startup_gc


@pytest.fixture
def no_freeze(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record gc.freeze calls instead of freezing the test process's objects."""
    calls: list[bool] = []
    monkeypatch.setattr(startup_gc.gc, "freeze", lambda: calls.append(True))
    return calls


def test_hold_and_release(no_freeze: list[bool]) -> None:
    assert gc.isenabled()
    startup_gc.hold()
    try:
        assert not gc.isenabled() and startup_gc.held()
    finally:
        startup_gc.release(freeze=True)
    assert gc.isenabled() and not startup_gc.held() and no_freeze == [True]
    startup_gc.release(freeze=True)  # again: nothing to do
    assert gc.isenabled() and no_freeze == [True]


def test_release_leaves_a_collector_it_did_not_turn_off_alone(no_freeze: list[bool]) -> None:
    gc.disable()
    try:
        startup_gc.hold()  # already off: not ours to turn back on
        startup_gc.release(freeze=True)
        assert not gc.isenabled() and no_freeze == []
    finally:
        gc.enable()


def test_a_dashboard_command_that_fails_early_turns_the_collector_back_on(
    capsys: pytest.CaptureFixture[str], no_freeze: list[bool]
) -> None:
    assert main(["--interval", "0"]) == 2  # refused before any app starts
    assert "interval" in capsys.readouterr().err
    assert gc.isenabled() and not startup_gc.held() and no_freeze == []


def test_the_dashboard_turns_it_back_on_after_its_first_frame() -> None:
    code = (
        "import asyncio, gc\n"
        "from perftui.core import startup_gc\n"
        "from perftui.store.metric_store import MetricStore\n"
        "from perftui.ui.app import create_app\n"
        "from perftui.ui.options import AppOptions\n"
        "startup_gc.hold()\n"
        "app = create_app(MetricStore(), None, AppOptions(interval=1.0, gpu_enabled=False))\n"
        "at_first_frame = []\n"
        "display = app._display\n"
        "def spy(*args, **kwargs):\n"
        "    if not at_first_frame:\n"
        "        at_first_frame.append(gc.isenabled())\n"
        "    return display(*args, **kwargs)\n"
        "app._display = spy\n"
        "async def main():\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        for _ in range(100):\n"
        "            await pilot.pause(0.02)\n"
        "            if gc.isenabled():\n"
        "                return True\n"
        "    return False\n"
        "assert asyncio.run(main()), 'the collector stayed off'\n"
        "assert at_first_frame == [False], at_first_frame\n"
        "assert gc.get_freeze_count() > 10000, gc.get_freeze_count()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
