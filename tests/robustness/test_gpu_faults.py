"""NVML faults through the real GpuSampler, the real SamplerRunner and the dashboard (fake NVML).

Rows: library absent, init fails, GPU lost mid-run, NotSupported on every optional call, an NVML
call that hangs (the runner's sampler deadline), a sampler that blocks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from perftui.core.types import SourceStatus
from perftui.samplers import runner as runner_mod
from perftui.samplers.gpu import GpuSampler
from perftui.samplers.runner import SamplerRunner, deadline_for, stale_reason
from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp, create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.fakes import fake_nvml as fk
from tests.fakes.fake_nvml import FakeNvml, GpuSpec, Scenario, make_fake_nvml
from tests.polling import wait_for
from tests.ui.fakes import HOSTNAME, BlockingSampler, FakeClock, FakeSampler


def panel_text(app: PerftuiApp, pid: str) -> str:
    return " ".join(app.screen_stack[0].query_one(f"#{pid}", MetricPanel).plain_lines())


class HangingNvml(FakeNvml):
    """The fake NVML, with one call that blocks (as a wedged driver does) once `armed` is set."""

    def __init__(self, scenario: Scenario, hang_call: str) -> None:
        super().__init__(scenario, realtime=True)
        self.hang_call = hang_call
        self.armed = threading.Event()
        self.release = threading.Event()
        self.hanging = threading.Event()

    def _enter(self, name: str, handle: Any = None) -> GpuSpec | None:
        if name == self.hang_call and self.armed.is_set() and not self.release.is_set():
            self.hanging.set()
            self.release.wait(30)
        return super()._enter(name, handle)


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline is max(5 s, 5 × interval); tests shorten the 5 s floor to keep the suite fast."""
    monkeypatch.setattr(runner_mod, "DEADLINE_MIN_S", 0.3)
    monkeypatch.setattr(runner_mod, "WATCH_PERIOD_S", 0.05)


# -- library absent / init fails ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scenario", "needle"),
    [
        (make_fake_nvml("nodriver"), "no NVIDIA driver"),
        (make_fake_nvml("driver_not_loaded"), "driver not loaded"),
        (FakeNvml(Scenario("noperm", init_error=fk.NVML_ERROR_NO_PERMISSION)), "NVML did not initialise"),
        (FakeNvml(Scenario("unknown", init_error=fk.NVML_ERROR_UNKNOWN)), "NVML did not initialise"),
        (make_fake_nvml("none"), "no NVIDIA GPU found"),
    ],
    ids=["library-absent", "driver-not-loaded", "init-no-permission", "init-unknown", "zero-gpus"],
)
async def test_nvml_unavailable_shows_its_reason_and_host_keeps_sampling(
    scenario: FakeNvml, needle: str
) -> None:
    store = MetricStore()
    runner = SamplerRunner(store, [FakeSampler("cpu", 0.05), GpuSampler(0.05, scenario)])
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
            first = store.last_sample_ts("cpu")
            assert wait_for(lambda: (store.last_sample_ts("cpu") or 0) > (first or 0))
            clock.now = time.time()
            app.dashboard.refresh_view()
            await pilot.pause()
            header = app.dashboard.query_one(HeaderBar).text  # no GPU box: the header says why
            assert needle.lower() in header.lower()
            assert "cpu" in panel_text(app, "cpu").lower()
            assert not any(k.startswith("gpu.") for k in store.keys(""))
    finally:
        runner.stop()


# -- GPU lost mid-run ---------------------------------------------------------------------------------
async def test_gpu_lost_mid_run_panel_says_lost_and_the_other_gpu_keeps_sampling() -> None:
    fake = make_fake_nvml("lost", realtime=False)  # GPU 1 lost from tick 3
    store = MetricStore()
    clock = FakeClock(1_767_225_600.0)
    runner = SamplerRunner(store, [FakeSampler("cpu"), GpuSampler(1.0, fake, clock=fake.now)], clock=clock)
    app = create_app(
        store,
        runner,
        AppOptions(hostname=HOSTNAME),
        TestKnobs(live_timer=False, use_tracker=False, clock=clock),
    )

    def tick(n: int) -> None:
        for _ in range(n):
            runner.sample_once()
            fake.advance()
            clock.advance(1.0)

    tick(3)
    async with app.run_test(size=(160, 45)) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "LOST" not in panel_text(app, "gpu-1") and "util" in panel_text(app, "gpu-1")
        tick(2)
        app.dashboard.refresh_view()
        await pilot.pause()
        lost = panel_text(app, "gpu-1")
        assert "GPU lost" in lost and "lost" in str(store.detail("gpu.1.tier_reason")).lower()
        assert app.screen_stack[0].query_one("#gpu-1", MetricPanel).subtitle == "LOST"
        assert "LOST" in app.query_one(HeaderBar).text and "GPM" in app.query_one(HeaderBar).text
        ts0 = store.last_sample_ts("gpu")
        tick(3)
        app.dashboard.refresh_view()
        await pilot.pause()
        assert (store.last_sample_ts("gpu") or 0) > (ts0 or 0)  # GPU 0 goes on
        assert "util" in panel_text(app, "gpu-0") and "GPU lost" not in panel_text(app, "gpu-0")
        assert store.latest("gpu.0.power_w") is not None and store.status("gpu") == SourceStatus.ok()


# -- NotSupported on every optional call -------------------------------------------------------------------
REQUIRED = {"nvmlDeviceGetHandleByIndex", "nvmlDeviceGetCount", "nvmlDeviceGetIndex"}
DEVICE_CALLS = {n for n in dir(FakeNvml) if n.startswith(("nvmlDevice", "nvmlGpm"))} - REQUIRED


async def test_not_supported_on_every_optional_call_gives_absent_values_asked_once() -> None:
    spec = GpuSpec(
        gpm=False,
        nvlinks=0,
        not_supported=set(DEVICE_CALLS) | {"nvmlDeviceGetMemoryInfo_v2"},
        unsupported_fields={
            fk.NVML_FI_DEV_PCIE_COUNT_TX_BYTES,
            fk.NVML_FI_DEV_PCIE_COUNT_RX_BYTES,
            fk.NVML_FI_DEV_ECC_SBE_VOL_TOTAL,
            fk.NVML_FI_DEV_ECC_DBE_VOL_TOTAL,
            fk.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX,
            fk.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX,
            fk.NVML_FI_DEV_NVLINK_LINK_COUNT,
        },
    )
    fake = FakeNvml(Scenario("all-unsupported", [spec]))
    sampler = GpuSampler(1.0, fake, clock=fake.now)
    assert sampler.availability().available
    values: list[dict[str, float | None]] = []

    def asked() -> dict[str, int]:
        return {n: c for n, c in fake.calls.items() if n in DEVICE_CALLS}

    for i in range(6):
        values.append(dict(sampler.sample()))
        fake.advance()
        if i == 1:
            after_two = asked()
    # every unsupported call was asked once per argument set, in the first ticks, never again
    assert after_two and asked() == after_two and max(after_two.values()) <= 2, after_two
    for tick in values:
        assert all(v is None for v in tick.values()), {k: v for k, v in tick.items() if v is not None}
    d = sampler.details()
    assert d["gpu.count"] == 1 and d["gpu.0.tier"] in ("nvml", "gpm")
    # the dashboard shows the GPU without inventing numbers
    store = MetricStore()
    runner = SamplerRunner(store, [sampler])
    runner.sample_once()
    app = create_app(
        store, runner, AppOptions(hostname=HOSTNAME), TestKnobs(live_timer=False, use_tracker=False)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        content = app.screen_stack[0].query_one("#gpu-0", MetricPanel).content
        assert content is not None and content.title.startswith("GPU 0")
        assert [r for r in content.rows if r.value not in (None, "", "—")] == []  # no number invented
        assert "GPM not supported" in panel_text(app, "gpu-0")


# -- the sampler deadline -------------------------------------------------------------------------------
def test_deadline_is_max_5s_or_5_intervals_and_counts_up() -> None:
    assert deadline_for(0.1) == 5.0 and deadline_for(1.0) == 5.0 and deadline_for(2.0) == 10.0
    store = MetricStore()
    blocker = BlockingSampler("disk")  # blocks from its second call
    blocker.interval = 0.05
    runner = SamplerRunner(store, [blocker])
    runner.start()
    try:
        assert wait_for(lambda: blocker.calls >= 2)
        started = runner._inflight["disk"]
        assert runner.check_deadlines(started + 4.9) == []
        assert store.status("disk").available  # type: ignore[union-attr]
        assert runner.check_deadlines(started + 5.2) == ["disk"]
        assert store.status("disk").reason == "stale: disk sample has not returned for 5 s"  # type: ignore[union-attr]
        runner.check_deadlines(started + 7.5)
        assert store.status("disk").reason == stale_reason("disk", 7)  # type: ignore[union-attr]
    finally:
        blocker.release.set()
        runner.stop()
    assert wait_for(lambda: store.status("disk").available)  # type: ignore[union-attr]


async def test_blocked_sampler_goes_stale_others_and_ui_go_on_then_it_recovers(short_deadline: None) -> None:
    store = MetricStore()
    blocker = BlockingSampler("disk")
    runner = SamplerRunner(store, [FakeSampler("cpu", 0.05), blocker])
    runner.start()
    app = create_app(
        store, runner, AppOptions(hostname=HOSTNAME), TestKnobs(live_timer=False, use_tracker=False)
    )
    try:
        async with app.run_test(size=(120, 40)) as pilot:

            def status() -> SourceStatus:
                st = store.status("disk")
                assert st is not None
                return st

            assert wait_for(lambda: (status().reason or "").startswith("stale: disk sample has not returned"))
            cpu_ts = store.last_sample_ts("cpu")
            assert wait_for(lambda: (store.last_sample_ts("cpu") or 0) > (cpu_ts or 0))
            app.dashboard.refresh_view()
            await pilot.pause()
            assert "disk: stale: disk sample has not returned for" in panel_text(app, "disk")
            started = time.monotonic()
            await pilot.press("w")
            assert app.dashboard.window == 300 and time.monotonic() - started < 2.0
            blocker.release.set()
            assert wait_for(lambda: status().available)
            app.dashboard.refresh_view()
            await pilot.pause()
            assert "stale: disk sample" not in panel_text(app, "disk")
    finally:
        blocker.release.set()
        runner.stop()


async def test_nvml_call_that_hangs_marks_gpu_stale_and_host_goes_on(short_deadline: None) -> None:
    fake = HangingNvml(Scenario("hang", [GpuSpec(), GpuSpec()]), "nvmlDeviceGetPowerUsage")
    store = MetricStore()
    gpu = GpuSampler(0.05, fake)
    runner = SamplerRunner(store, [FakeSampler("cpu", 0.05), gpu])
    runner.start()
    app = create_app(
        store, runner, AppOptions(hostname=HOSTNAME), TestKnobs(live_timer=False, use_tracker=False)
    )
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            assert wait_for(lambda: store.latest("gpu.1.power_w") is not None)
            fake.armed.set()
            assert fake.hanging.wait(5)
            assert wait_for(lambda: (store.status("gpu").reason or "").startswith("stale: gpu sample"))  # type: ignore[union-attr]
            cpu_ts = store.last_sample_ts("cpu")
            assert wait_for(lambda: (store.last_sample_ts("cpu") or 0) > (cpu_ts or 0))
            app.dashboard.refresh_view()
            await pilot.pause()
            await pilot.press("w")
            assert app.dashboard.window == 300
            fake.release.set()
            assert wait_for(lambda: store.status("gpu").available)  # type: ignore[union-attr]
    finally:
        fake.release.set()
        runner.stop()


async def test_gpu_panel_says_stale_when_the_gpu_sampler_hangs() -> None:
    store = MetricStore()
    fake = make_fake_nvml("h100", realtime=False)
    runner = SamplerRunner(store, [GpuSampler(1.0, fake, clock=fake.now)])
    runner.sample_once()
    store.set_status("gpu", SourceStatus.unavailable(stale_reason("gpu", 12)))
    app = create_app(
        store, runner, AppOptions(hostname=HOSTNAME), TestKnobs(live_timer=False, use_tracker=False)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        assert "stale: gpu sample has not returned for 12 s" in panel_text(app, "gpu-0")
