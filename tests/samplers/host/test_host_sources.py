"""host_samplers(): the set, its order, the protocol, and a real run through the runner."""

from __future__ import annotations

import json
import time

from perftui.core.specs import REGISTRY
from perftui.samplers.base import Sampler
from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.host import host_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore


def test_names_order_and_protocol() -> None:
    samplers = host_samplers(0.5)
    assert [s.name for s in samplers] == ["cpu", "memory", "psi", "disk", "net", "membw"]
    for s in samplers:
        assert isinstance(s, Sampler)
        assert s.interval == 0.5
    assert [s.name for s in build_samplers(SamplerOptions(interval=1.0, gpu=False))][:6] == [
        "cpu", "memory", "psi", "disk", "net", "membw"
    ]  # fmt: skip


def test_fixture_roots_are_passed_down(tmp_path: object) -> None:
    samplers = {s.name: s for s in host_samplers(1.0, proc_root=f"{tmp_path}/p", sys_root=f"{tmp_path}/s")}
    assert not samplers["psi"].availability().available
    assert not samplers["disk"].availability().available
    assert not samplers["net"].availability().available
    assert not samplers["membw"].availability().available


def test_real_run_through_the_runner() -> None:
    store = MetricStore(capacity=16)
    runner = SamplerRunner(store, host_samplers(0.2))
    try:
        runner.sample_once()
        time.sleep(0.3)
        runner.sample_once()
    finally:
        runner.stop()
    statuses = store.statuses()
    for name in ("cpu", "memory", "psi", "disk", "net"):
        assert statuses[name].available, (name, statuses[name].reason)
    keys = store.keys()
    for key in ("cpu.util", "mem.used_bytes", "psi.io.some_rate", "net.tcp.out_segs_per_s"):
        assert key in keys
        assert store.latest(key) is not None
    assert any(k.startswith("disk.") for k in keys)
    # every key a host sampler emits has a spec (unit, label) in the registry
    assert [k for k in keys if REGISTRY.get(k) is None] == []
    # details are plain JSON
    json.dumps(store.details())
    if not statuses["membw"].available:
        assert statuses["membw"].reason
