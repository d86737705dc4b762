"""Samplers held back until the dashboard's first frame: they start on release (the dashboard screen
gives it after its first refresh), by themselves after HOLD_MAX_S, at once without a hold, and a
held runner still stops promptly."""

from __future__ import annotations

import asyncio
import time

import pytest

from perftui.samplers import runner as runner_mod
from perftui.samplers.proctable_sampler import ProcTableSampler
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.ui.app import create_app
from perftui.ui.options import AppOptions, TestKnobs
from tests.polling import wait_for
from tests.store.test_runner import CountingSampler
from tests.ui.fakes import HOSTNAME


class Priming(CountingSampler):
    after_first_frame = True


def test_the_process_table_is_started_after_the_first_frame() -> None:
    assert ProcTableSampler.after_first_frame
    assert not CountingSampler("a", 1.0).after_first_frame


def test_held_samplers_wait_for_release_and_others_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "HOLD_MAX_S", 60.0)
    now, held = CountingSampler("now", 0.02), Priming("held", 0.02)
    runner = SamplerRunner(MetricStore(), [now, held], hold_deferred=True)
    runner.start()
    try:
        assert wait_for(lambda: now.calls >= 5)
        assert held.calls == 0
        runner.release_deferred()
        assert wait_for(lambda: held.calls >= 2)
    finally:
        runner.stop()


def test_without_a_hold_every_sampler_starts_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "HOLD_MAX_S", 60.0)
    held = Priming("held", 0.02)
    runner = SamplerRunner(MetricStore(), [held])  # headless commands: record, diagnose, stream
    runner.start()
    try:
        assert wait_for(lambda: held.calls >= 1, timeout=5.0)
    finally:
        runner.stop()


def test_held_samplers_start_by_themselves_when_nobody_releases_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_mod, "HOLD_MAX_S", 0.3)
    held = Priming("held", 0.02)
    runner = SamplerRunner(MetricStore(), [held], hold_deferred=True)
    t0 = time.monotonic()
    runner.start()
    try:
        assert wait_for(lambda: held.calls >= 1, timeout=5.0)
        assert time.monotonic() - t0 >= 0.25
    finally:
        runner.stop()


def test_stop_while_held_is_prompt_and_samples_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "HOLD_MAX_S", 60.0)
    held = Priming("held", 0.02)
    runner = SamplerRunner(MetricStore(), [held], hold_deferred=True)
    runner.start()
    t0 = time.monotonic()
    runner.stop()
    assert time.monotonic() - t0 < 1.0 and not runner.running
    assert held.calls == 0


def test_the_dashboard_screen_releases_held_samplers_after_its_first_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_mod, "HOLD_MAX_S", 60.0)
    store = MetricStore()
    held = Priming("held", 0.05)
    runner = SamplerRunner(store, [held], hold_deferred=True)
    runner.start()
    knobs = TestKnobs(live_timer=False, use_tracker=False)
    app = create_app(store, runner, AppOptions(hostname=HOSTNAME, theme="perftui-dark"), knobs)

    async def main() -> bool:
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(100):
                await pilot.pause(0.02)
                if held.calls:
                    return True
        return False

    try:
        assert held.calls == 0
        assert asyncio.run(main())
    finally:
        runner.stop()
