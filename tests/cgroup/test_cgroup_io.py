"""I/O limits of a cgroup (v2 io.max, v1 blkio.throttle.*_device) and its use of them, on fixture
trees: parsers, the attached cgroup, the box-wide pass ranking an I/O-bound cgroup first."""

from __future__ import annotations

from pathlib import Path

import pytest

from perftui.samplers.cgroup import CgroupSampler
from perftui.samplers.cgroup_io import (
    device_name,
    limit_values,
    merge_v1,
    parse_blkio_devices,
    parse_io_max,
    parse_io_stat_devices,
)
from tests.cgroup.fixture_tree import D64, DOCKER, Clock, tree


def test_parse_io_max_skips_max_and_unlimited_devices() -> None:
    text = "8:0 rbps=max wbps=10000000 riops=max wiops=max\n8:16 rbps=max wbps=max riops=max wiops=max\n"
    assert parse_io_max(text) == {"8:0": {"wbps": 1e7}}
    assert parse_io_max(None) == {} and parse_io_max("garbage\n") == {}


def test_parse_v1_throttle_files() -> None:
    got = merge_v1({"rbps": "", "wbps": "8:0 10000000\n8:16 0\n", "riops": None, "wiops": "8:0 500\n"})
    assert got == {"8:0": {"wbps": 1e7, "wiops": 500.0}}


def test_use_per_limited_device() -> None:
    stat = "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n259:0 rbytes=9 wbytes=9 rios=9 wios=9\n"
    assert parse_io_stat_devices(stat, {"8:0"}) == {"8:0": {"rbps": 1, "wbps": 2, "riops": 3, "wiops": 4}}
    into: dict[str, dict[str, float]] = {}
    parse_blkio_devices("8:0 Read 5\n8:0 Write 6\n8:0 Total 11\nTotal 11\n", {"8:0"}, "rbps", "wbps", into)
    assert into == {"8:0": {"rbps": 5, "wbps": 6}}


def test_limit_values_pick_the_device_nearest_its_limit() -> None:
    rates = {"x.io8:0wbps": 9e6, "x.io8:16wbps": 1e6}
    limits = {"8:0": {"wbps": 1e7}, "8:16": {"wbps": 2e6}}
    use = {"8:0": {"wbps": 1.0}, "8:16": {"wbps": 1.0}}
    vals, where = limit_values("x.", limits, use, lambda k, _v: rates[k])
    assert vals == {"x.io_wbps_limit": 1e7, "x.io_wbps_limit_pct": pytest.approx(90.0)}
    assert where == {"wbps": "8:0"}
    vals, where = limit_values("x.", limits, {}, lambda k, _v: None)  # no use read: the tighter limit
    assert vals == {"x.io_wbps_limit": 2e6, "x.io_wbps_limit_pct": None} and where == {"wbps": "8:16"}


def _write_stat(d: Path, wbytes: int, wios: int) -> None:
    (d / "io.stat").write_text(
        f"8:0 rbytes=1048576 wbytes={wbytes} rios=10 wios={wios} dbytes=0 dios=0\n"
        "259:0 rbytes=0 wbytes=4096 rios=0 wios=1 dbytes=0 dios=0\n"
    )


def test_v2_attached_io_limit(tmp_path: Path) -> None:
    root, mounts = tree("v2_docker", tmp_path)
    clock = Clock()
    s = CgroupSampler(1.0, pid=4242, proc_root=str(root / "proc"), mounts=mounts, clock=clock)
    p = f"cgroup.{DOCKER}."
    first = s.sample()
    assert first[p + "io_wbps_limit"] == 1e7 and first[p + "io_wbps_limit_pct"] is None  # no fake 0
    assert first[p + "io_riops_limit"] == 2000 and p + "io_rbps_limit" not in first
    d = root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"
    _write_stat(d, 2097152 + 9_800_000, 20)
    clock.t += 1.0
    v = s.sample()
    assert v[p + "io_wbps_limit_pct"] == pytest.approx(98.0)
    assert v[p + "io_riops_limit_pct"] == 0.0
    info = s.details()["cgroup.groups"][DOCKER]
    assert info["io_dir"] == str(d) and info["io_devices"] == {
        "wbps": device_name("8:0"),
        "riops": device_name("259:0"),
    }
    assert info["io_limits"]["8:0"] == {"wbps": 1e7}


@pytest.mark.parametrize("case", ["v1", "hybrid"])
def test_v1_attached_io_limit(case: str, tmp_path: Path) -> None:
    root, mounts = tree(case, tmp_path)
    clock = Clock()
    s = CgroupSampler(1.0, pid=4242, proc_root=str(root / "proc"), mounts=mounts, clock=clock)
    p = f"cgroup.{DOCKER}."
    first = s.sample()
    assert (first[p + "io_wbps_limit"], first[p + "io_wiops_limit"]) == (1e7, 500)
    b = root / "sys/fs/cgroup/blkio/docker" / D64
    svc = b / "blkio.throttle.io_service_bytes"
    svc.write_text(svc.read_text().replace("Write 2097152", f"Write {2097152 + 5_000_000}"))
    ops = b / "blkio.throttle.io_serviced"
    ops.write_text(ops.read_text().replace("Write 20", "Write 495"))
    clock.t += 1.0
    v = s.sample()
    assert v[p + "io_wbps_limit_pct"] == pytest.approx(50.0)
    assert v[p + "io_wiops_limit_pct"] == pytest.approx(95.0)
    assert s.details()["cgroup.groups"][DOCKER]["io_dir"] == str(b)


def test_box_wide_ranks_the_io_bound_cgroup_first(tmp_path: Path) -> None:
    """With room for one, the cgroup at its I/O limit is published over a busier one."""
    root, mounts = tree("v2_docker", tmp_path)
    clock = Clock()
    s = CgroupSampler(1.0, proc_root=str(root / "proc"), mounts=mounts, clock=clock, top=1)
    base = root / "sys/fs/cgroup/system.slice"
    d = base / f"docker-{D64}.scope"
    (d / "memory.current").write_text("1000\n")  # not near its memory limit
    s.sample()
    _write_stat(d, 2097152 + 19_000_000, 20)  # 9.5 MB/s over the 2 s pass, of a 10 MB/s limit
    from tests.cgroup.fixture_tree import bump

    bump(base / "nginx.service" / "cpu.stat", "usage_usec", 1_800_000)  # 0.9 core busy
    clock.t += 2
    v = s.sample()
    assert set(s.details()["cgroup.groups"]) == {DOCKER}
    assert v[f"cgroup.{DOCKER}.io_wbps_limit_pct"] == pytest.approx(95.0)
