"""The throttle label end to end: a real clock-event mask through the real sampler into the GPU panel."""

from __future__ import annotations

import pytest

from perftui.core.gpu import THROTTLE_EVENTS, THROTTLE_MASK, decode_clock_events
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import ViewCtx, gpu_content
from tests.fakes.fake_nvml import GpuSpec, Scenario, _h100_values
from tests.gpu.conftest import MakeFake, sampler_for


def _panel_after(fake_nvml: MakeFake, mask: int) -> tuple[str, str, str]:
    """(clocks row text, its severity, the one-line summary's extras) after two ticks at `mask`."""
    values = _h100_values()
    values["clock_events"] = lambda t: mask
    fake = fake_nvml(Scenario(gpus=[GpuSpec(values=values)]))
    sampler = sampler_for(fake)
    store = MetricStore(capacity=16)
    runner = SamplerRunner(store, [sampler], clock=fake.now)  # the dashboard's path into the store
    for _ in range(2):
        runner.sample_once()
        fake.advance()
    content = gpu_content(store, ViewCtx(now=fake.now(), window=60.0, interval=1.0), 0)
    clocks = next(r for r in content.rows if r.label == "clocks")
    return clocks.text or "", clocks.severity, content.summary_extra


@pytest.mark.parametrize(
    ("mask", "label"),
    [(0x4, "power cap"), (0x40, "HW thermal slowdown"), (0x4 | 0x8, "power cap, HW slowdown")],
)
def test_gpu_panel_marks_a_throttled_gpu(fake_nvml: MakeFake, mask: int, label: str) -> None:
    text, severity, extra = _panel_after(fake_nvml, mask)
    assert text.endswith(f"MHz throttled: {label}")
    assert severity == "warn"
    assert "throttled" in extra.split("  ")


@pytest.mark.parametrize(("mask", "shown"), [(0x0, ""), (0x1, " GPU idle"), (0x10, " sync boost")])
def test_gpu_panel_does_not_mark_other_clock_events(fake_nvml: MakeFake, mask: int, shown: str) -> None:
    text, severity, extra = _panel_after(fake_nvml, mask)
    assert text.endswith("MHz" + shown) and "throttled" not in text
    assert severity == "" and "throttled" not in extra


def test_throttle_names_are_the_decoders_names() -> None:
    assert {"power_cap", "hw_slowdown", "sw_thermal", "hw_thermal", "power_brake"} == THROTTLE_EVENTS
    assert set(decode_clock_events(THROTTLE_MASK)) == THROTTLE_EVENTS
