"""The container-limit rules on synthetic windows: quota throttling, memory at its limit, OOM kills."""

from __future__ import annotations

from typing import Any

from tests.diagnosis.windows import GiB, findings, hits

DOCKER = "docker-3f2a9c1b2d4e"
MiB = 1024**2
GROUPS = {
    "cgroup.groups": {
        DOCKER: {
            "label": "docker 3f2a9c1b2d4e",
            "cpu_dir": "/sys/fs/cgroup/system.slice/docker-3f2a.scope",
            "memory_dir": "/sys/fs/cgroup/system.slice/docker-3f2a.scope",
        }
    },
    "cgroup.mode": "v2",
}
HOST = {"cpu.util": 10.0, "cpu.cores": 2.0, "mem.available_bytes": 22 * GiB, "mem.used_pct": 1.6}


def _throttled(share: float, **extra: Any) -> dict[str, Any]:
    p = f"cgroup.{DOCKER}."
    return {
        **HOST,
        p + "throttled_pct": share,
        p + "cpu_quota_cores": 0.2,
        p + "cpu_used_cores": 0.2,
        p + "throttled_s_per_s": 0.8,
        **extra,
    }


def test_quota_throttling_is_the_verdict_while_the_host_idles() -> None:
    fs = findings(_throttled(99.0), GROUPS)
    top = fs[0]
    assert top.verdict == "cpu-bound" and top.rule == "cgroup.cpu_quota"
    assert top.title == (
        "docker 3f2a9c1b2d4e cpu-bound by its CPU quota: throttled in 99 % of periods at 0.2 CPU "
        "while the host has 1.8 idle cores"
    )
    assert top.next_step == "cat /sys/fs/cgroup/system.slice/docker-3f2a.scope/cpu.stat"
    assert any("Raise the CPU limit" in s for s in top.suggestions)
    assert top.confidence == "high" and top.subject == f"cgroup.{DOCKER}"


def test_below_the_kmix_line_no_finding_and_band_holds_it() -> None:
    assert hits("cgroup.cpu_quota", _throttled(20.0), GROUPS) == []
    assert hits("cgroup.cpu_quota", _throttled(22.0), GROUPS, sticky=True)  # Schmitt band of 5
    assert hits("cgroup.cpu_quota", _throttled(26.0), GROUPS)


def test_attached_process_cgroup_ranks_above_host_rules() -> None:
    vals = _throttled(90.0, **{"cpu.util": 95.0})
    fs = findings(vals, {**GROUPS, "cgroup.attached": DOCKER})
    assert fs[0].rule == "cgroup.cpu_quota" and fs[0].subject == "proc"
    assert fs[0].score >= 80


def test_without_details_the_name_and_a_placeholder_path() -> None:
    top = findings(_throttled(99.0))[0]
    assert top.title.startswith(f"{DOCKER} cpu-bound by its CPU quota")
    assert top.next_step == (
        "cat $(dirname \"$(find /sys/fs/cgroup -path '*3f2a9c1b2d4e*' -name cpu.stat | head -1)\")/cpu.stat"
    )


def _memory(used_pct: float, **extra: Any) -> dict[str, Any]:
    p = f"cgroup.{DOCKER}."
    return {
        **HOST,
        p + "mem_used_pct": used_pct,
        p + "mem_limit_bytes": 256 * MiB,
        p + "mem_used_bytes": used_pct / 100 * 256 * MiB,
        **extra,
    }


def test_memory_at_limit_with_reclaim_is_memory_bound() -> None:
    p = f"cgroup.{DOCKER}."
    fs = findings(_memory(100.0, **{p + "mem_limit_events": 12.0, p + "psi_memory_some_pct": 35.0}), GROUPS)
    top = fs[0]
    assert top.rule == "cgroup.memory_limit" and top.verdict == "memory-bound"
    assert (
        top.title
        == "docker 3f2a9c1b2d4e memory-bound at 100 % of its 256 MiB limit; the host has 22.0 GiB free"
    )
    assert "120 times the limit forced reclaim in the window" in top.evidence
    assert top.confidence == "high"
    assert top.next_step == "cat /sys/fs/cgroup/system.slice/docker-3f2a.scope/memory.events"


def test_page_cache_at_the_limit_without_reclaim_is_not_a_finding() -> None:
    p = f"cgroup.{DOCKER}."
    assert hits("cgroup.memory_limit", _memory(100.0, **{p + "mem_limit_events": 0.0}), GROUPS) == []


def test_oom_kills_in_the_window_are_evidence_alone() -> None:
    p = f"cgroup.{DOCKER}."
    kills = [0.0] * 9 + [2.0]
    got = hits(
        "cgroup.memory_limit", _memory(40.0, **{p + "oom_kills": kills}), {**GROUPS, "cgroup.mode": "v1"}
    )
    assert len(got) == 1 and "2 OOM kills in the window" in got[0].evidence
    assert got[0].confidence == "high" and got[0].fmt["memfile"] == "memory.stat"


def test_limit_reclaim_outranks_the_attached_process_file_reads() -> None:
    """A process re-reading files under a small limit shows as reading files in its stacks: the
    limit evicting its page cache is the cause, and ranks first."""
    p = f"cgroup.{DOCKER}."
    vals = _memory(
        100.0, **{p + "mem_limit_events": 500.0, "stack.share.disk_read": 95.0, "stack.samples": 100.0}
    )
    fs = findings(vals, {**GROUPS, "cgroup.attached": DOCKER})
    rules = [f.rule for f in fs]
    assert "stack.disk_read" in rules
    assert rules[0] == "cgroup.memory_limit" and fs[0].subject == "proc"


def _io(share: float, **extra: Any) -> dict[str, Any]:
    p = f"cgroup.{DOCKER}."
    return {**HOST, p + "io_wbps_limit_pct": share, p + "io_wbps_limit": 10e6, **extra}


IO_GROUPS = {
    **GROUPS,
    "cgroup.groups": {DOCKER: {**GROUPS["cgroup.groups"][DOCKER], "io_devices": {"wbps": "253:0"}}},
}
IO_GROUPS["cgroup.groups"][DOCKER]["io_dir"] = "/sys/fs/cgroup/system.slice/docker-3f2a.scope"


def test_io_held_at_its_limit_is_io_bound() -> None:
    top = findings(_io(98.0), IO_GROUPS)[0]
    assert top.rule == "cgroup.io_limit" and top.verdict == "io-bound"
    assert (
        top.title
        == "docker 3f2a9c1b2d4e io-bound by its I/O limit: 98 % of its 10.0 MB/s write limit on 253:0"
    )
    assert top.next_step == "cat /sys/fs/cgroup/system.slice/docker-3f2a.scope/io.max"
    assert any("Raise or remove the cgroup's I/O limit" in s for s in top.suggestions)


def test_io_below_the_line_no_finding_and_band_holds_it() -> None:
    assert hits("cgroup.io_limit", _io(85.0), IO_GROUPS) == []
    assert hits("cgroup.io_limit", _io(88.0), IO_GROUPS, sticky=True)  # Schmitt band of 3
    assert hits("cgroup.io_limit", _io(90.0), IO_GROUPS)


def test_io_iops_limit_v1_names_the_throttle_file() -> None:
    p = f"cgroup.{DOCKER}."
    vals = {**HOST, p + "io_riops_limit_pct": 97.0, p + "io_riops_limit": 500.0}
    groups = {**IO_GROUPS, "cgroup.mode": "v1", "cgroup.attached": DOCKER}
    got = hits("cgroup.io_limit", vals, groups)
    assert len(got) == 1 and "97 % of its 500 IOPS read limit" in got[0].title
    assert got[0].fmt["iofile"] == "blkio.throttle.read_iops_device" and got[0].subject == "proc"
    fs = findings({**vals, "stack.share.disk_read": 95.0, "stack.samples": 100.0}, groups)
    assert fs[0].rule == "cgroup.io_limit"  # the limit, not the reads it slows, is the cause
