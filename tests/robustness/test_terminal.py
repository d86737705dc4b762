"""Terminal faults: resized while running (Pilot); no colour or a dumb terminal (real command, tmux)."""

from __future__ import annotations

import re
import time

import pytest

from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.ui.app import create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.e2e.test_dashboard_tmux import PERFTUI, SETTLE, Tmux
from tests.ui.fakes import HOSTNAME, NO_DRIVER, FakeSampler, UnavailableSampler


async def test_resized_to_20x5_80x24_300x90_while_sampling() -> None:
    store = MetricStore()
    runner = SamplerRunner(
        store,
        [FakeSampler("cpu", 0.1), FakeSampler("memory", 0.1), UnavailableSampler("gpu", NO_DRIVER)],
    )
    app = create_app(
        store,
        runner,
        AppOptions(hostname=HOSTNAME, interval=0.1),
        TestKnobs(use_tracker=False, start_runner=True, live_timer=True),
    )
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            main = app.screen_stack[0]
            deadline = time.monotonic() + 10
            while store.last_sample_ts("cpu") is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            for size in ((20, 5), (80, 24), (300, 90), (20, 5), (80, 24)):
                await pilot.resize_terminal(*size)
                await pilot.pause(0.3)  # a few render ticks at this size, samplers running
                too_small = str(main.query_one("#too-small").render())
                if size == (20, 5):
                    assert "terminal too small: 20×5" in too_small
                    assert not main.query_one("#body").display
                else:
                    assert main.query_one("#body").display
                    cpu = main.query_one("#cpu", MetricPanel).plain_lines()
                    assert any("busiest" in line for line in cpu), (size, cpu)
                    assert all(len(line) <= size[0] for line in cpu)
            await pilot.press("q")
    finally:
        runner.stop()
    assert app.return_code == 0


# -- the real command in tmux without colour ---------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.parametrize(
    "env",
    ["NO_COLOR=1 TERM=xterm-256color", "TERM=dumb", "TERM=linux", "NO_COLOR=1 TERM=linux"],
    ids=["no-color", "dumb", "linux", "no-color-linux"],
)
def test_real_dashboard_without_colour_is_usable(tmux: Tmux, env: str) -> None:
    cmd = f"{SETTLE}; env {env} {PERFTUI} --no-gpu --interval 0.5; echo PERFTUI_EXIT=$?; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)
    screen = tmux.wait_for("busiest", timeout=60)  # the CPU panel has data
    assert "Memory" in screen and "Traceback" not in screen
    tmux.run("send-keys", "-t", "e2e", "?")  # a screen change works too
    tmux.wait_for("perftui keys", timeout=20)
    tmux.run("send-keys", "-t", "e2e", "Escape")
    deadline = time.monotonic() + 20
    while "perftui keys" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.2)  # a key right after Escape would read as Alt+key
    tmux.run("send-keys", "-t", "e2e", "q")
    screen = tmux.wait_for("PERFTUI_EXIT=", timeout=30)
    assert "PERFTUI_EXIT=0" in screen and "Traceback" not in screen, screen


@pytest.mark.e2e
def test_no_color_output_has_no_colour_codes(tmux: Tmux) -> None:
    cmd = f"{SETTLE}; env NO_COLOR=1 TERM=xterm-256color {PERFTUI} --no-gpu --interval 0.5; sleep 120"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)
    tmux.wait_for("busiest", timeout=60)
    styled = tmux.run("capture-pane", "-p", "-e", "-t", "e2e")
    # Textual's NO_COLOR filter turns colours into greys: no hue may be left (256-colour cube entries)
    hues = [
        int(n)
        for n in re.findall(r"\x1b\[(?:3|4)8;5;(\d+)m", styled)
        if 16 <= int(n) <= 231 and len({(int(n) - 16) // 36, (int(n) - 16) // 6 % 6, (int(n) - 16) % 6}) > 1
    ]
    assert not hues, sorted(set(hues))
