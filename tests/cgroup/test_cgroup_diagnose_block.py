"""`diagnose --json`'s `cgroup` block: the attached process's cgroup, else perftui's own inside a
container, else a note; present whether or not a finding fired (the sampler over fixture trees)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from perftui.commands.diagnose import cgroup_block
from perftui.samplers.cgroup import CgroupSampler
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from tests.cgroup.fixture_tree import D64, Clock, bump, tree


def _run(s: CgroupSampler, clock: Clock, d: Path) -> MetricStore:
    store = MetricStore(capacity=64)
    runner = SamplerRunner(store, [s])
    runner.sample_once()
    bump(d / "cpu.stat", "nr_periods", 10)
    bump(d / "cpu.stat", "nr_throttled", 4)
    clock.t += 2.0
    runner.sample_once()
    return store


def test_attached_cgroup_block(tmp_path: Path) -> None:
    root, mounts = tree("v2_docker", tmp_path)
    clock = Clock()
    s = CgroupSampler(1.0, pid=4242, proc_root=str(root / "proc"), mounts=mounts, clock=clock)
    block = cgroup_block(_run(s, clock, root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"))
    assert block["of"] == "attached" and block["name"] == "docker-3f2a9c1b2d4e"
    assert block["label"] == "docker 3f2a9c1b2d4e" and block["mode"] == "v2"
    assert block["cpu_quota_cores"] == pytest.approx(0.2) and block["throttled_pct"] == pytest.approx(40.0)
    assert block["mem_limit_bytes"] == 256 * 2**20 and block["mem_used_bytes"] == 268000000
    assert block["io_limits"]["wbps"]["limit"] == 1e7 and block["io_limits"]["wbps"]["used_pct"] == 0.0
    assert set(block["io_limits"]) == {"wbps", "riops"}


def test_own_container_block_without_pid(tmp_path: Path) -> None:
    root, mounts = tree("v2_docker", tmp_path)
    (root / "proc" / "self").mkdir()
    shutil.copy(root / "proc" / "4242" / "cgroup", root / "proc" / "self" / "cgroup")
    clock = Clock()
    s = CgroupSampler(1.0, proc_root=str(root / "proc"), mounts=mounts, clock=clock)
    block = cgroup_block(_run(s, clock, root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"))
    assert block["of"] == "perftui" and block["in_container"] is True
    assert block["label"] == "docker 3f2a9c1b2d4e" and block["cpu_quota_cores"] == pytest.approx(0.2)
    assert block["throttled_pct"] == pytest.approx(40.0)  # over the interval between two refreshes
    assert block["mem_used_bytes"] == 268000000 and block["io_limits"]["8:0"] == {"wbps": 1e7}


def test_neither_attached_nor_in_a_container_has_a_note(tmp_path: Path) -> None:
    root, mounts = tree("v1", tmp_path)
    (root / "proc" / "self").mkdir()
    shutil.copy(root / "proc" / "1" / "cgroup", root / "proc" / "self" / "cgroup")
    clock = Clock()
    s = CgroupSampler(1.0, pid=1, proc_root=str(root / "proc"), mounts=mounts, clock=clock)
    store = MetricStore(capacity=8)
    SamplerRunner(store, [s]).sample_once()
    block = cgroup_block(store)
    if block["in_container"]:  # the test itself runs in a container (/.dockerenv): perftui's own
        assert block["of"] == "perftui"
    else:
        assert block["of"] is None and "root cgroup" in block["note"]
