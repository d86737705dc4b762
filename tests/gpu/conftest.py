"""Fixtures for GPU tests: a fake NVML per scenario, and a sampler driven by the fake's clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perftui.samplers.gpu import GpuSampler
from tests.fakes.fake_nvml import FakeNvml, Scenario, make_fake_nvml

MakeFake = Callable[..., FakeNvml]


@pytest.fixture
def fake_nvml() -> MakeFake:
    """fake_nvml("h100") or fake_nvml(Scenario(...)): time moves only with fake.advance()."""

    def make(scenario: str | Scenario, tick_seconds: float = 1.0) -> FakeNvml:
        if isinstance(scenario, Scenario):
            return FakeNvml(scenario, tick_seconds=tick_seconds)
        return make_fake_nvml(scenario, realtime=False, tick_seconds=tick_seconds)

    return make


def run_ticks(sampler: GpuSampler, fake: FakeNvml, n: int) -> list[dict[str, float | None]]:
    """n sampler ticks, the fake's time advancing one tick after each."""
    out = []
    for _ in range(n):
        out.append(dict(sampler.sample()))
        fake.advance()
    return out


def sampler_for(fake: FakeNvml, **kw: object) -> GpuSampler:
    s = GpuSampler(1.0, fake, clock=fake.now, **kw)  # type: ignore[arg-type]
    return s
