"""Pilot tests: every key and action of the dashboard, with fake data and a fake clock."""

from __future__ import annotations

import time

from perftui.core.limits import MAX_INTERVAL, MIN_INTERVAL
from perftui.core.limits import WINDOW_STEPS as WINDOWS
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore, capacity_for
from perftui.ui.app import PerftuiApp, create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.screens.dashboard import DIAG_PERIOD_S
from perftui.ui.screens.detail import DetailScreen
from perftui.ui.screens.help import HelpScreen
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel
from perftui.ui.widgets.process_pane import ATTACH_HINT, ProcessPane
from tests.ui.conftest import make_app
from tests.ui.fakes import (
    HOSTNAME,
    NO_DRIVER,
    BlockingSampler,
    FakeClock,
    FakeSampler,
    RaisingSampler,
    UnavailableSampler,
    fill_store,
)


def header(app: PerftuiApp) -> str:
    return app.query_one(HeaderBar).text


def panel(app: PerftuiApp, pid: str) -> MetricPanel:
    return app.screen_stack[0].query_one(f"#{pid}", MetricPanel)


async def test_main_screen_shows_every_panel_and_header() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        ids = {p.id for p in app.query(MetricPanel)}
        assert ids == {"cpu", "memory", "disk", "net", "gpu-0"}
        h = header(app)
        assert HOSTNAME in h and "1× NVIDIA H100 80GB HBM3" in h and "driver 550.54.15" in h
        assert "tier GPM" in h and "every 1 s" in h and "window 1 min" in h
        cpu = "\n".join(panel(app, "cpu").plain_lines())
        assert "CPU" in cpu and "busiest" in cpu  # the busiest core, said so
        gpu = "\n".join(panel(app, "gpu-0").plain_lines())
        assert "util" in gpu and "SM act" in gpu and "DRAM BW" in gpu and "/80.0 GiB" in gpu
        assert panel(app, "gpu-0").subtitle == "GPM counters"
        assert app.query_one(DiagnosisPane).message == "diagnosis not available"
        assert "41000" in "\n".join(app.query_one(ProcessPane).lines)


async def test_no_gpu_panel_shows_the_driver_reason_and_attach_hint() -> None:
    app, store, _ = make_app(0)
    store.set_detail("gpu.processes", [])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # no empty GPU box: the header's one line says why
        assert not [p for p in app.query(MetricPanel) if (p.id or "").startswith("gpu")]
        assert not app.query_one("#gpus").display
        assert "no GPU" in header(app) and f"GPU: {NO_DRIVER}" in header(app)
        assert app.query_one(ProcessPane).lines == []
        assert ATTACH_HINT.startswith("no process attached")


async def test_q_quits_with_status_0() -> None:
    app, _, _ = make_app(0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


async def test_p_pauses_and_resumes_rendering() -> None:
    app, store, _clock = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        assert app.dashboard.paused and "PAUSED" in header(app)
        before = panel(app, "cpu").plain_lines()
        ticks = app.dashboard.ticks
        fill_store(store, 1, seconds=30, t0=(store.last_ts or 0) + 1)  # more data arrives
        app.dashboard.refresh_view()
        assert app.dashboard.ticks == ticks and panel(app, "cpu").plain_lines() == before
        await pilot.press("p")
        assert not app.dashboard.paused and "PAUSED" not in header(app)
        assert app.dashboard.ticks == ticks + 1


async def test_plus_minus_change_the_runner_interval() -> None:
    store = MetricStore(capacity=capacity_for(max(WINDOWS), 1.0))  # as the perftui command sizes it
    sampler = FakeSampler("cpu", interval=1.0)
    runner = SamplerRunner(store, [sampler])
    app = create_app(
        store,
        runner,
        AppOptions(hostname=HOSTNAME, interval=1.0),
        TestKnobs(live_timer=False, use_tracker=False),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("plus")
        assert app.dashboard.interval == 2.0 and sampler.interval == 2.0 and "every 2 s" in header(app)
        await pilot.press("minus", "minus", "minus")
        assert app.dashboard.interval == 0.2 and sampler.interval == 0.2
        assert store.capacity >= capacity_for(max(WINDOWS), 0.2)  # the 15-min window still fits
        for _ in range(6):
            await pilot.press("minus")
        assert app.dashboard.interval == MIN_INTERVAL  # the CLI's fastest, no further
        for _ in range(12):
            await pilot.press("plus")
        assert app.dashboard.interval == MAX_INTERVAL == sampler.interval  # the CLI's slowest
        assert store.capacity >= capacity_for(max(WINDOWS), MIN_INTERVAL)  # slower again: nothing dropped


def interval_app(interval: float) -> PerftuiApp:
    store = MetricStore(capacity=capacity_for(max(WINDOWS), interval))
    runner = SamplerRunner(store, [FakeSampler("cpu", interval=interval)])
    options = AppOptions(hostname=HOSTNAME, interval=interval)
    return create_app(store, runner, options, TestKnobs(live_timer=False, use_tracker=False))


async def test_plus_never_shortens_a_long_cli_interval_and_says_the_limit() -> None:
    app = interval_app(30.0)  # perftui --interval 30: + gave 10 s
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("plus")
        assert app.dashboard.interval == 60.0
        await pilot.press("plus")
        await pilot.pause()
        assert app.dashboard.interval == 60.0
        assert any("longest interval" in str(n.message) for n in app._notifications)
        await pilot.press("minus")
        assert app.dashboard.interval == 30.0


async def test_minus_never_lengthens_a_short_cli_interval_and_says_the_limit() -> None:
    app = interval_app(0.05)  # perftui --interval 0.05: - gave 0.1 s
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("minus")
        await pilot.pause()
        assert app.dashboard.interval == 0.05
        assert any("shortest interval" in str(n.message) for n in app._notifications)
        await pilot.press("plus")
        assert app.dashboard.interval == 0.1


async def test_an_interval_between_steps_moves_to_the_next_step_each_way() -> None:
    for key, want in (("plus", 10.0), ("minus", 5.0)):
        app = interval_app(7.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press(key)
            assert app.dashboard.interval == want


async def test_render_timer_follows_the_interval_but_never_exceeds_4_hz() -> None:
    store = MetricStore()
    app = create_app(store, None, AppOptions(hostname=HOSTNAME, interval=0.1), TestKnobs(use_tracker=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.dashboard._timer is not None and app.dashboard._timer._interval == 0.25
        await pilot.press("plus", "plus", "plus")  # 0.2 -> 0.5 -> 1.0
        assert app.dashboard._timer._interval == 1.0


async def test_w_cycles_the_window() -> None:
    app, _, _ = make_app(0)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.dashboard.window == 60
        await pilot.press("w")
        assert app.dashboard.window == 300 and "window 5 min" in header(app)
        await pilot.press("w")
        assert app.dashboard.window == 900 and "window 15 min" in header(app)
        await pilot.press("w")
        assert app.dashboard.window == 60


def focused_id(app: PerftuiApp) -> str | None:
    return app.focused.id if app.focused is not None else None


async def test_tab_moves_focus_in_order() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        order = [w.id for w in app.screen.focus_chain]
        assert focused_id(app) == order[0] == "cpu"
        await pilot.press("tab")
        assert focused_id(app) == order[1]
        await pilot.press("shift+tab")
        assert focused_id(app) == order[0]


async def test_arrows_move_to_the_neighbouring_panel_in_that_direction() -> None:
    # 120x40, one GPU: cpu, memory, disk, net down the left; gpu-0 on the right; diagnosis and
    # processes along the bottom (Tab's order would take `right` from cpu to memory)
    app, _, _ = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert focused_id(app) == "cpu"
        walk = [
            ("right", "gpu-0"), ("left", "cpu"), ("down", "memory"), ("down", "disk"), ("right", "gpu-0"),
            ("down", "processes"), ("left", "diagnosis"), ("up", "net"), ("up", "disk"), ("up", "memory"),
            ("up", "cpu"), ("up", "cpu"), ("left", "cpu"),  # nothing above or left of it: stays
        ]  # fmt: skip
        for key, want in walk:
            await pilot.press(key)
            assert focused_id(app) == want, (key, want)


async def test_arrows_cross_the_gpu_grid_by_direction() -> None:
    app, _, _ = make_app(4)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.set_focus(panel(app, "gpu-0"))
        for key, want in (("right", "gpu-1"), ("down", "gpu-3"), ("left", "gpu-2"), ("up", "gpu-0")):
            await pilot.press(key)
            assert focused_id(app) == want, (key, want)


async def test_ctrl_c_quits_like_q() -> None:
    app, _, _ = make_app(0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_value == 0 and not app.is_running


async def test_enter_opens_detail_with_plot_and_stats_and_escape_closes() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.set_focus(panel(app, "gpu-0"))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.panel_id == "gpu-0"
        stats = str(screen.query_one("#detail-stats").render())
        for col in ("mean", "P50", "P95", "max"):  # P99 and P99.9 need more than 60 samples
            assert col in stats
        assert "util" in stats and "over the last 60 s (60 samples)" in stats
        plot = str(screen.query_one("#detail-plot").render())
        assert "GPU 0" in plot and "┌" in plot
        app.dashboard.refresh_view()  # the open detail follows the render tick
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)


async def test_t_cycles_themes_perftui_first() -> None:
    app, _, _ = make_app(0)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "perftui-dark"
        names = app.theme_names
        assert names[:2] == ["perftui-dark", "perftui-light"] and "textual-dark" in names
        await pilot.press("t")
        assert app.theme == "perftui-light"
        assert app.current_theme.variables["spark"] == "#007a87"
        await pilot.press("t")
        assert app.theme == names[2]
        assert app.get_css_variables()["spark"]  # built-in themes get a derived sparkline colour


async def test_question_mark_opens_help_and_escape_closes() -> None:
    app, _, _ = make_app(0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for key in ("q", "p", "+ / -", "w", "enter", "t", "?"):
            assert f"  {key} " in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await pilot.press("q")  # q closes help, does not quit
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen) and app.is_running


async def test_command_palette_lists_the_actions() -> None:
    app, _, _ = make_app(0)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for t in ("Pause / resume", "Longer interval", "Shorter interval", "Cycle window", "Cycle theme"):
            assert t in titles
        cmd = next(c for c in app.get_system_commands(app.screen) if c.title == "Cycle window")
        cmd.callback()
        assert app.dashboard.window == 300
        await pilot.pause()


async def test_terminal_too_small_shows_a_message_not_a_traceback() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        msg = str(app.query_one("#too-small").render())
        assert "terminal too small: 60×20" in msg and "80×24" in msg
        assert not app.query_one("#body").display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.query_one("#body").display and not app.query_one("#too-small").display
        app.dashboard.refresh_view()
        assert panel(app, "cpu").plain_lines()


async def test_stale_source_says_so_and_unavailable_source_shows_reason() -> None:
    app, _store, clock = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        clock.advance(42)
        app.dashboard.refresh_view()
        text = " ".join(panel(app, "cpu").plain_lines())
        assert "cpu: stale (last sample 42 s ago)" in text
        content = panel(app, "memory").content
        assert content is not None
        assert any(
            r.label == "mem BW" and "unavailable: no host memory" in (r.text or "") for r in content.rows
        )


async def test_blocking_and_raising_samplers_keep_the_ui_responsive() -> None:
    store = MetricStore()
    blocker, raiser = BlockingSampler("disk"), RaisingSampler("net")
    gpu = UnavailableSampler("gpu", NO_DRIVER)
    runner = SamplerRunner(store, [FakeSampler("cpu", 0.1), blocker, raiser, gpu])
    runner.start()
    clock = FakeClock(time.time())
    app = create_app(
        store,
        runner,
        AppOptions(hostname=HOSTNAME),
        TestKnobs(live_timer=False, use_tracker=False, clock=clock),
    )
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 10
            while store.last_sample_ts("disk") is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            clock.now = time.time() + 10
            app.dashboard.refresh_view()
            disk = " ".join(panel(app, "disk").plain_lines())
            net = " ".join(panel(app, "net").plain_lines())
            gpu_text = header(app)  # no GPU box: the header says why
            assert "disk: stale (last sample" in disk
            assert "net: sampling failed: OSError: /proc/net/dev vanished" in net
            assert "no NVIDIA driver" in gpu_text
            started = time.monotonic()
            await pilot.press("w")
            assert app.dashboard.window == 300
            assert time.monotonic() - started < 2.0  # generous: the UI thread never waits on samplers
    finally:
        blocker.release.set()
        runner.stop()


async def test_only_changed_cells_are_redrawn() -> None:
    app, store, clock = make_app(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        await pilot.pause()
        cpu = panel(app, "cpu")
        before = cpu.render_count
        app.dashboard.refresh_view()  # nothing new in the store: nothing to redraw
        await pilot.pause()
        assert cpu.render_count == before
        fill_store(store, 1, seconds=1, t0=(store.last_ts or 0) + 1)
        clock.advance(1)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert cpu.render_count > before
        assert cpu.render_count - before <= len(cpu.plain_lines())


async def test_diagnosis_pane_shows_the_tracker_verdict() -> None:
    from perftui.diagnosis.model import Diagnosis, Finding

    finding = Finding(
        verdict="memory-bound",
        title="GPU 0 memory-bound (DRAM bandwidth 86 % of peak)",
        confidence="high",
        score=1.0,
        evidence=("DRAM BW 86 % (P50 over 10 s)",),
        suggestions=("fuse elementwise kernels",),
        next_step="ncu --section MemoryWorkloadAnalysis ...",
    )

    class Tracker:
        def __init__(self) -> None:
            self.calls = 0

        def update(self, store: MetricStore, window_s: float) -> Diagnosis:
            self.calls += 1
            return Diagnosis("memory-bound", "high", (finding,))

    tracker = Tracker()
    app, store, clock = make_app(1, tracker=tracker)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pane = app.query_one(DiagnosisPane)
        assert pane.diagnosis is not None and pane.diagnosis.verdict == "memory-bound"
        text = "\n".join(pane.plain_lines)
        assert "memory-bound" in text and "DRAM BW 86 %" in text and "next: ncu" in text
        calls = tracker.calls
        half = DIAG_PERIOD_S / 2
        fill_store(store, 1, seconds=1, t0=(store.last_ts or 0) + half)
        clock.advance(half)
        app.dashboard.refresh_view()  # new data, but within the diagnosis period: not yet
        assert tracker.calls == calls
        fill_store(store, 1, seconds=1, t0=(store.last_ts or 0) + half)
        clock.advance(half)
        app.dashboard.refresh_view()
        assert tracker.calls == calls + 1
