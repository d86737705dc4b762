"""The container-limits line and the header's container fact (pure builders)."""

from __future__ import annotations

from typing import Any

from perftui.ui.cgroup_panel import cgroup_line, cgroup_warn, container_fact

MiB = 1024**2
NAME = "docker-3f2a9c1b2d4e"
DETAILS: dict[str, Any] = {
    "cgroup.attached": NAME,
    "cgroup.groups": {NAME: {"label": "docker 3f2a9c1b2d4e"}},
}


def _latest(values: dict[str, float]) -> Any:
    return lambda key: values.get(key)


def test_line_with_quota_throttling_and_limit() -> None:
    p = f"cgroup.{NAME}."
    vals = {
        p + "cpu_quota_cores": 0.2,
        p + "cpu_used_cores": 0.2,
        p + "throttled_pct": 99.0,
        p + "mem_used_bytes": 256 * MiB,
        p + "mem_limit_bytes": 256 * MiB,
        p + "mem_used_pct": 100.0,
        p + "oom_kills": 2.0,
    }
    line = cgroup_line(_latest(vals), DETAILS)
    assert line == (
        "docker 3f2a9c1b2d4e · CPU 0.20 of 0.2 quota, throttled 99 % · "
        "mem 256 MiB of 256 MiB (100 %) · 2 OOM kills"
    )
    assert cgroup_warn(_latest(vals), DETAILS)


def test_line_without_limits_is_calm() -> None:
    p = f"cgroup.{NAME}."
    vals = {p + "cpu_used_cores": 0.5, p + "mem_used_bytes": 10 * MiB}
    assert (
        cgroup_line(_latest(vals), DETAILS)
        == "docker 3f2a9c1b2d4e · CPU 0.50 (no quota) · mem 10.0 MiB (no limit)"
    )
    assert not cgroup_warn(_latest(vals), DETAILS)


def test_not_attached_shows_the_sampler_note() -> None:
    d = {"cgroup.attached": None, "cgroup.note": "process 7 is in the root cgroup: no container limits apply"}
    assert cgroup_line(_latest({}), d).startswith("process 7 is in the root cgroup")
    assert not cgroup_warn(_latest({}), d)


def test_container_fact() -> None:
    assert container_fact({"cgroup.self": {"in_container": False}}) is None
    fact = container_fact(
        {
            "cgroup.self": {
                "in_container": True,
                "reason": "Docker container (/.dockerenv exists)",
                "cpu_quota_cores": 2.0,
                "mem_limit_bytes": 4 * 1024**3,
            }
        }
    )
    assert fact == (
        "in a container (Docker container (/.dockerenv exists)): host-wide figures may be partial; "
        "its limits 2 CPU, 4.0 GiB"
    )


def test_line_names_the_io_limits_and_warns_at_one() -> None:
    p = f"cgroup.{NAME}."
    details = {
        **DETAILS,
        "cgroup.groups": {NAME: {"label": "docker 3f2a9c1b2d4e", "io_devices": {"wbps": "253:0"}}},
    }
    vals = {
        p + "cpu_used_cores": 0.5,
        p + "io_wbps_limit": 10e6,
        p + "io_wbps_limit_pct": 98.0,
        p + "io_riops_limit": 500.0,
    }
    line = cgroup_line(_latest(vals), details)
    assert line == (
        "docker 3f2a9c1b2d4e · CPU 0.50 (no quota) · I/O limit write 10.0 MB/s on 253:0 (98 %), read 500 IOPS"
    )
    assert cgroup_warn(_latest(vals), details)
    vals[p + "io_wbps_limit_pct"] = 40.0
    assert not cgroup_warn(_latest(vals), details)
