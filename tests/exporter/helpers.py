"""A store filled by the real GPU sampler over the fake NVML, and the exporter's text for it."""

from __future__ import annotations

import shutil
import subprocess

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from perftui.exporter.collector import StoreCollector
from perftui.samplers.gpu import GpuSampler
from perftui.store.metric_store import MetricStore
from tests.fakes.fake_nvml import make_fake_nvml


def gpu_store(scenario: str = "8gpu", ticks: int = 3) -> MetricStore:
    """`ticks` samples of the real GPU sampler over the fake (time moves one second per tick)."""
    fake = make_fake_nvml(scenario, realtime=False)
    sampler = GpuSampler(1.0, fake, clock=fake.now)  # type: ignore[arg-type]
    store = MetricStore(capacity=64)
    store.set_status("gpu", sampler.availability())
    for _ in range(ticks):
        store.append(fake.now(), sampler.sample(), source="gpu")
        for key, value in sampler.details().items():
            store.set_detail(key, value)
        fake.advance()
    sampler.close()
    return store


def scrape(collector: StoreCollector) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode()


def samples(text: str) -> dict[str, list[Sample]]:
    """Family name -> samples, through prometheus_client's own parser."""
    out: dict[str, list[Sample]] = {}
    for fam in text_string_to_metric_families(text):
        out.setdefault(fam.name, []).extend(fam.samples)
    return out


def promtool_problems(text: str) -> tuple[int, str]:
    """`promtool check metrics` over the text: (exit status, its output)."""
    promtool = shutil.which("promtool")
    assert promtool is not None
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    return done.returncode, done.stdout + done.stderr
