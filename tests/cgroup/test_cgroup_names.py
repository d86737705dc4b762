"""Container identity from /proc/PID/cgroup paths: Docker, Kubernetes, Podman, LXC, systemd."""

from __future__ import annotations

import pytest

from perftui.core.cgroup_names import container_of, identify, parse_proc_cgroup, path_for
from tests.cgroup.fixture_tree import FIXTURES

CASES = [
    tuple(part.strip() for part in line.split("|"))
    for line in (FIXTURES / "proc_cgroup_lines.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


@pytest.mark.parametrize(("kind", "slug", "path"), CASES, ids=[c[1] for c in CASES])
def test_identify(kind: str, slug: str, path: str) -> None:
    ident = identify(path)
    assert (ident.kind, ident.slug) == (kind, slug)


def test_kubernetes_ids_in_full() -> None:
    ident = identify(CASES[2][2])
    assert ident.pod_uid == "7c1e2a3b-4d5e-6f70-8192-a3b4c5d6e7f8"
    assert ident.container_id.startswith("9a8b7c6d5e4f") and len(ident.container_id) == 64
    assert ident.runtime == "containerd"
    assert ident.label == "pod 7c1e2a3b container 9a8b7c6d5e4f"


def test_v1_lines_and_controller_paths() -> None:
    text = (FIXTURES / "v1" / "proc" / "4242" / "cgroup").read_text()
    lines = parse_proc_cgroup(text + "garbage\n12:x:no-slash\n")
    assert len(lines) == 6
    assert path_for(
        lines,
        "cpu",
    ) and path_for(lines, "cpu") == path_for(lines, "memory")
    assert path_for(lines, "cpuset") is None  # no such v1 line and no v2 line
    ident = container_of(text)
    assert ident is not None and ident.label == "docker 3f2a9c1b2d4e"


def test_v2_line_and_no_container() -> None:
    assert (
        path_for(parse_proc_cgroup("0::/system.slice/nginx.service\n"), "memory")
        == "/system.slice/nginx.service"
    )
    assert container_of("0::/system.slice/nginx.service\n") is None
    assert container_of("") is None


def test_deleted_cgroup_suffix() -> None:
    assert identify("/system.slice/old.service (deleted)").label == "old.service"
