"""core/details.py: the typed accessors give back exactly what the samplers publish, and read a detail
of another shape (an older recording, a hand-made fixture) as absent fields, never a crash."""

from __future__ import annotations

from typing import Any

from perftui.core import details
from perftui.store.metric_store import MetricStore
from tests.fakes.fake_nvml import FakeProcess, GiB, GpuSpec, Scenario
from tests.gpu.conftest import MakeFake, run_ticks, sampler_for


def _store(d: dict[str, Any]) -> MetricStore:
    store = MetricStore(capacity=4)
    for k, v in d.items():
        store.set_detail(k, v)
    return store


def test_accessors_return_the_gpu_samplers_details_unchanged(fake_nvml: MakeFake) -> None:
    procs = [FakeProcess(pid=4242, used_bytes=30 * GiB), FakeProcess(pid=4243, used_bytes=GiB)]
    fake = fake_nvml(Scenario(gpus=[GpuSpec(processes=procs), GpuSpec()]))
    s = sampler_for(fake)
    run_ticks(s, fake, 2)
    published = dict(s.details())
    store = _store(published)
    for i in range(2):
        assert details.gpu_info(store, i) == published[f"gpu.{i}.info"]
        assert details.gpu_tier(store, i) == published[f"gpu.{i}.tier"]
        assert details.clock_events(store, i) == published[f"gpu.{i}.clock_events"]
        assert details.gpu_tier_reason(store, i) == published[f"gpu.{i}.tier_reason"]
    assert details.gpu_count(store) == published["gpu.count"] == 2
    assert details.gpu_driver(store) == published["gpu.driver"]
    assert details.gpu_processes(store) == published["gpu.processes"]
    assert {p["pid"] for p in details.gpu_processes(store)} == {4242, 4243}


def test_absent_details_read_empty() -> None:
    store = MetricStore(capacity=4)
    assert details.gpu_info(store, 0) == {}
    assert details.gpu_tier(store, 0) is None and details.gpu_driver(store) is None
    assert details.gpu_tier_reason(store, 0) == "" and details.gpu_count(store) is None
    assert details.clock_events(store, 0) == [] and details.gpu_processes(store) == []
    assert details.proc_info(store) is None and details.proc_tree(store) == []
    assert details.stack_top(store) == [] and details.stack_threads(store) == []
    assert details.stack_window(store) is None


def test_other_shapes_read_as_absent_fields_not_a_crash() -> None:
    store = _store(
        {
            "gpu.0.info": {"name": 7, "memory_total_bytes": "80 GiB", "max_sm_clock_mhz": 1980, "x": 1},
            "gpu.0.tier": "fast",
            "gpu.0.clock_events": "power_cap",
            "gpu.driver": {"driver": "550.54.15", "cuda": "12.4"},
            # an older recording's process entries (tests/fixtures/make_recordings.py writes these)
            "gpu.processes": [{"pid": 4242, "gpu": 0, "used_memory_bytes": GiB}, {"gpu": 0}, "junk"],
            "proc.info": {"pid": "4242", "name": "python", "status": "sleeping", "gpu_note": None},
            "proc.tree": [{"pid": 1, "rss": True, "state": 3}, {"name": "no pid"}],
            "stack.top": [{"function": "_next_data", "share": 44.0}],
            "stack.window": {"dumps": 50},
        }
    )
    info = details.gpu_info(store, 0)
    assert info["name"] is None and info["memory_total_bytes"] is None and info["max_sm_clock_mhz"] == 1980
    assert "x" not in info
    assert details.gpu_tier(store, 0) is None and details.clock_events(store, 0) == []
    assert details.gpu_driver(store) == {"driver": "550.54.15", "nvml": None, "cuda_driver": None}
    (proc,) = details.gpu_processes(store)
    assert proc["pid"] == 4242 and proc["used_bytes"] is None and proc["sm_util"] is None
    assert details.proc_info(store) == {"cmdline": [], "name": "python"}
    (row,) = details.proc_tree(store)
    assert row["pid"] == 1 and row["rss"] is None and row["state"] is None and row["ppid"] is None
    (top,) = details.stack_top(store)
    assert top == {"function": "_next_data", "file": "?", "line": None, "self_pct": None, "total_pct": None}
    assert details.stack_window(store) is None  # the shares' window length is the one fact it needs
