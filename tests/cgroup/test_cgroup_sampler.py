"""The cgroup sampler on fixture trees: v2 (Docker host, Kubernetes node, systemd host), v1, hybrid;
a cgroup that disappears mid-run; a cgroup it may not read."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from perftui.samplers.cgroup import CgroupSampler
from perftui.samplers.cgroup_files import parse_mountinfo
from perftui.samplers.cgroup_tree import dirs_for, own_container
from tests.cgroup.fixture_tree import D64, DOCKER, Clock, bump, tree


def _sampler(case: str, tmp: Path, pid: int | None) -> tuple[CgroupSampler, Path, Clock]:
    root, mounts = tree(case, tmp)
    clock = Clock()
    s = CgroupSampler(1.0, pid=pid, proc_root=str(root / "proc"), mounts=mounts, clock=clock)
    return s, root, clock


def test_mountinfo_modes() -> None:
    from tests.cgroup.fixture_tree import FIXTURES

    modes = {
        c: parse_mountinfo((FIXTURES / c / "mountinfo").read_text()).mode
        for c in ("v1", "v2_docker", "hybrid")
    }
    assert modes == {"v1": "v1", "v2_docker": "v2", "hybrid": "hybrid"}
    m = parse_mountinfo((FIXTURES / "hybrid" / "mountinfo").read_text())
    assert m.v1["cpu"] == ("/sys/fs/cgroup/cpu", "/") and m.v2 == "/sys/fs/cgroup/unified"


def test_v2_docker_attached(tmp_path: Path) -> None:
    s, root, clock = _sampler("v2_docker", tmp_path, 4242)
    assert s.availability().available
    first = s.sample()
    p = f"cgroup.{DOCKER}."
    assert first[p + "cpu_quota_cores"] == pytest.approx(0.2)
    assert first[p + "mem_limit_bytes"] == 256 * 2**20
    assert first[p + "mem_used_pct"] == pytest.approx(100 * 268000000 / 268435456)
    assert first.get(p + "throttled_pct") is None and first[p + "cpu_used_cores"] is None  # no fake 0
    d = root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"
    bump(d / "cpu.stat", "usage_usec", 200_000)
    bump(d / "cpu.stat", "nr_periods", 10)
    bump(d / "cpu.stat", "nr_throttled", 9)
    bump(d / "cpu.stat", "throttled_usec", 700_000)
    bump(d / "memory.events", "max", 4)
    bump(d / "memory.events", "oom_kill", 1)
    io = (d / "io.stat").read_text().replace("rbytes=1048576", "rbytes=2097152")
    (d / "io.stat").write_text(io)
    clock.t += 1.0
    v = s.sample()
    assert v[p + "throttled_pct"] == pytest.approx(90.0)
    assert v[p + "cpu_used_cores"] == pytest.approx(0.2)
    assert v[p + "throttled_s_per_s"] == pytest.approx(0.7)
    assert (v[p + "mem_limit_events"], v[p + "oom_kills"], v[p + "mem_high_events"]) == (4, 1, 0)
    assert v[p + "psi_memory_some_pct"] == 0.0
    assert (v[p + "io_read_bytes_per_s"], v[p + "io_write_bytes_per_s"]) == (1048576, 0)
    det = s.details()
    assert det["cgroup.attached"] == DOCKER and det["cgroup.mode"] == "v2"
    info = det["cgroup.groups"][DOCKER]
    assert info["label"] == "docker 3f2a9c1b2d4e" and info["container_id"] == D64
    assert info["cpu_dir"] == str(d)


def test_v2_docker_box_wide_picks_the_throttled_container(tmp_path: Path) -> None:
    s, root, clock = _sampler("v2_docker", tmp_path, None)
    assert s.sample() == {} or True  # first pass: levels only
    d = root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"
    bump(d / "cpu.stat", "nr_periods", 20)
    bump(d / "cpu.stat", "nr_throttled", 20)
    bump(d / "cpu.stat", "usage_usec", 400_000)
    clock.t += 1.0
    assert s.sample() == {}  # within 2 s of the last pass: skipped
    clock.t += 1.0
    v = s.sample()
    assert v[f"cgroup.{DOCKER}.throttled_pct"] == 100.0
    assert set(s.details()["cgroup.groups"]) >= {DOCKER}
    assert s.details()["cgroup.attached"] is None


def test_k8s_pod_and_container(tmp_path: Path) -> None:
    s, _root, _clock = _sampler("v2_k8s", tmp_path, 777)
    v = s.sample()
    slug = "pod-7c1e2a3b-ctr-9a8b7c6d5e4f"
    assert v[f"cgroup.{slug}.cpu_quota_cores"] == pytest.approx(0.5)
    info = s.details()["cgroup.groups"][slug]
    assert info["pod_uid"] == "7c1e2a3b-4d5e-6f70-8192-a3b4c5d6e7f8" and info["kind"] == "kubernetes"
    box, _r, clock = _sampler("v2_k8s", tmp_path / "box", None)
    box.sample()
    clock.t += 2.0
    box.sample()
    names = set(box.details()["cgroup.groups"])
    assert {slug, "pod-7c1e2a3b"} <= names  # the pod slice has limits too


def test_systemd_unit_memory_high(tmp_path: Path) -> None:
    s, _root, _clock = _sampler("v2_systemd", tmp_path, 900)
    v = s.sample()
    p = "cgroup.postgresql.service."
    assert v[p + "mem_high_bytes"] == 1006632960 and v[p + "mem_limit_bytes"] == 2**30
    assert v[p + "mem_used_pct"] == pytest.approx(100 * 1e9 / 1006632960)  # of the lower: memory.high
    assert p + "cpu_quota_cores" not in v


@pytest.mark.parametrize("case", ["v1", "hybrid"])
def test_v1_and_hybrid(case: str, tmp_path: Path) -> None:
    s, root, clock = _sampler(case, tmp_path, 4242)
    v = s.sample()
    p = f"cgroup.{DOCKER}."
    assert v[p + "cpu_quota_cores"] == pytest.approx(0.2) and v[p + "mem_limit_bytes"] == 268435456
    cg = root / "sys/fs/cgroup"
    bump(cg / "cpu/docker" / D64 / "cpu.stat", "nr_periods", 10)
    bump(cg / "cpu/docker" / D64 / "cpu.stat", "nr_throttled", 10)
    bump(cg / "cpu/docker" / D64 / "cpu.stat", "throttled_time", 500_000_000)
    bump(cg / "cpuacct/docker" / D64 / "cpuacct.usage", "", 200_000_000)
    bump(cg / "memory/docker" / D64 / "memory.failcnt", "", 3)
    blk = cg / "blkio/docker" / D64 / "blkio.throttle.io_service_bytes"
    blk.write_text(blk.read_text().replace("Write 2097152", "Write 3145728"))
    clock.t += 1.0
    v = s.sample()
    assert v[p + "throttled_pct"] == 100.0 and v[p + "throttled_s_per_s"] == pytest.approx(0.5)
    assert v[p + "cpu_used_cores"] == pytest.approx(0.2) and v[p + "mem_limit_events"] == 3
    assert s.details()["cgroup.mode"] == case
    assert (v[p + "io_read_bytes_per_s"], v[p + "io_write_bytes_per_s"]) == (0, 1048576)
    # the sshd unit has no limit (-1 quota, the v1 "unlimited" value) and is still a candidate by name
    box, _r, c2 = _sampler(case, tmp_path / "box", None)
    box.sample()
    c2.t += 2
    out = box.sample()
    assert "cgroup.sshd.service.mem_limit_bytes" not in out


def test_root_cgroup_has_no_limits(tmp_path: Path) -> None:
    s, _root, _clock = _sampler("v1", tmp_path, 1)
    assert s.sample() == {}
    assert "root cgroup" in s.details()["cgroup.note"]


def test_cgroup_disappears_mid_run(tmp_path: Path) -> None:
    s, root, clock = _sampler("v2_docker", tmp_path, 4242)
    assert s.sample()
    shutil.rmtree(root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope")
    clock.t += 1
    assert s.sample() == {}
    assert "disappeared" in s.details()["cgroup.note"]
    box, broot, bclock = _sampler("v2_docker", tmp_path / "box", None)
    box.sample()
    shutil.rmtree(broot / "sys/fs/cgroup/system.slice/nginx.service")
    bclock.t += 2
    box.sample()  # no exception; the gone cgroup is dropped
    assert "nginx.service" not in box.details()["cgroup.groups"]


def test_no_permission_to_read_a_cgroup() -> None:
    """A user who may not read the cgroup's files (the effective user switched to nobody): the
    values are absent, nothing raises."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch the effective user to nobody")
    base = Path(tempfile.mkdtemp(prefix="perftui-cg-"))
    try:
        base.chmod(0o755)
        root, mounts = tree("v2_docker", base)
        for dirpath, dirnames, _files in os.walk(base):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
        d = root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"
        for f in d.iterdir():
            f.chmod(0o600)
        s = CgroupSampler(1.0, pid=4242, proc_root=str(root / "proc"), mounts=mounts, clock=Clock())
        os.seteuid(65534)
        try:
            available = s.availability().available
            values = s.sample()
        finally:
            os.seteuid(0)
        assert available
        assert values == {}  # every file refused: read as a cgroup with nothing to say
        assert s.details()["cgroup.note"].startswith(f"no permission to read {d}")
    finally:
        shutil.rmtree(base)


def test_unreadable_files_read_as_absent(tmp_path: Path) -> None:
    """As root the mode bits do not stop a read: a directory in place of a file does (EISDIR)."""
    s, root, _clock = _sampler("v2_docker", tmp_path, 4242)
    d = root / "sys/fs/cgroup/system.slice" / f"docker-{D64}.scope"
    (d / "memory.max").unlink()
    (d / "memory.max").mkdir()
    v = s.sample()
    assert f"cgroup.{DOCKER}.mem_limit_bytes" not in v and f"cgroup.{DOCKER}.cpu_quota_cores" in v


def test_unreadable_pid_is_unavailable(tmp_path: Path) -> None:
    s, _root, _clock = _sampler("v2_docker", tmp_path, 999999)
    st = s.availability()
    assert not st.available and "999999/cgroup" in (st.reason or "")


def test_dirs_for_container_mount_root() -> None:
    """Inside a container without a cgroup namespace the mount root is the container's own cgroup."""
    m = parse_mountinfo("30 25 0:26 /system.slice/docker-x.scope /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n")
    dirs, path = dirs_for(m, "0::/system.slice/docker-x.scope/app\n")
    assert dirs.v2 == "/sys/fs/cgroup/app" and path.endswith("/app")


def test_own_container_markers(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".containerenv").write_text("")
    inside, why = own_container(str(tmp_path / "proc"), str(tmp_path))
    assert inside and "Podman" in why


def test_box_wide_set_is_sticky(tmp_path: Path) -> None:
    """With room for one, the published cgroup stays while it ranks in the top two."""
    root, mounts = tree("v2_docker", tmp_path)
    clock = Clock()
    s = CgroupSampler(1.0, proc_root=str(root / "proc"), mounts=mounts, clock=clock, top=1)
    base = root / "sys/fs/cgroup/system.slice"
    first = [base / f"docker-{D64}.scope", base / "nginx.service", base / "docker.service"]
    (first[0] / "memory.current").write_text("1000\n")  # not near its limit: ranked by CPU alone

    def tick(busy: dict[Path, int]) -> set[str]:
        for d, usec in busy.items():
            bump(d / "cpu.stat", "usage_usec", usec)
        clock.t += 2
        s.sample()
        return set(s.details()["cgroup.groups"])

    s.sample()
    assert tick({first[1]: 900_000, first[2]: 100_000}) == {"nginx.service"}
    assert tick({first[1]: 500_000, first[2]: 600_000}) == {"nginx.service"}  # second: stays
    assert tick({first[2]: 600_000, first[0]: 500_000}) == {"docker.service"}  # out of the top 2


def test_a_cgroup_entering_the_top_has_its_cpu_rate_that_pass(tmp_path: Path) -> None:
    """Only the published cgroups' values are built each pass; one that enters the top K gets its CPU
    rate at once, from the counters the ranking read the pass before (not one pass later)."""
    root, mounts = tree("v2_docker", tmp_path)
    clock = Clock()
    s = CgroupSampler(1.0, proc_root=str(root / "proc"), mounts=mounts, clock=clock, top=1)
    base = root / "sys/fs/cgroup/system.slice"
    scope = base / f"docker-{D64}.scope"
    (scope / "memory.current").write_text("1000\n")  # not near its limit: ranked by CPU alone
    nginx, docker = base / "nginx.service", base / "docker.service"

    def tick(busy: dict[Path, int]) -> dict[str, float | None]:
        for d, usec in busy.items():
            bump(d / "cpu.stat", "usage_usec", usec)
        clock.t += 2
        return s.sample()

    s.sample()
    tick({nginx: 1_800_000, docker: 200_000})  # nginx published, docker ranked only
    tick({nginx: 1_800_000, docker: 200_000})
    out = tick({docker: 3_000_000, scope: 1_000_000})  # docker enters; nginx idle, third: out
    assert set(s.details()["cgroup.groups"]) == {"docker.service"}
    assert out["cgroup.docker.service.cpu_used_cores"] == pytest.approx(1.5)


def test_registered_in_every_command() -> None:
    from perftui.samplers.factory import SamplerOptions, build_samplers

    for pid in (None, os.getpid()):
        samplers = build_samplers(SamplerOptions(gpu=False, pid=pid))
        try:
            found = [s for s in samplers if s.name == "cgroup"]
            assert len(found) == 1
            cg = found[0]
            assert isinstance(cg, CgroupSampler) and cg.pid == pid and cg.thread_group == "host"
        finally:
            for s in samplers:
                s.close()
