"""Specs of the cgroup source: container limits, throttling, memory against its limit, per-cgroup PSI.

`*` is the cgroup in the user's terms (`docker-3f2a9c1b2d4e`, `pod-7c1e2a3b-ctr-…`, `nginx.service`);
the detail `cgroup.groups` maps it to its label, kind and directories.
"""

from __future__ import annotations

from perftui.core.spec import MetricSpec
from perftui.core.units import Unit

P, B, C, S = Unit.PERCENT, Unit.BYTES, Unit.COUNT, Unit.SECONDS


def _m(
    pattern: str, unit: Unit, desc: str, *, rate: bool = False, mx: float | None = None, label: str
) -> MetricSpec:
    return MetricSpec(f"cgroup.*.{pattern}", unit, desc, rate, mx, label, "cgroup")


SPECS: list[MetricSpec] = [
    _m("cpu_quota_cores", C, "CPU quota in cores (cpu.max / cfs_quota_us ÷ period)", label="quota"),
    _m("cpu_used_cores", C, "CPU used by the cgroup, in cores", rate=True, label="CPU used"),
    _m(
        "throttled_pct",
        P,
        "share of the quota periods in which the cgroup was throttled",
        rate=True,
        mx=100,
        label="throttled",
    ),
    _m(
        "throttled_s_per_s",
        S,
        "time the cgroup's tasks were throttled, per second",
        rate=True,
        label="throttled time",
    ),
    _m("mem_limit_bytes", B, "memory limit (memory.max / limit_in_bytes)", label="mem limit"),
    _m("mem_high_bytes", B, "memory.high: reclaim and throttling above this", label="mem high"),
    _m("mem_used_bytes", B, "memory charged to the cgroup (page cache included)", label="mem used"),
    _m(
        "mem_used_pct",
        P,
        "memory used, % of the lowest of memory.max and memory.high",
        mx=100,
        label="mem of limit",
    ),
    _m("oom_kills", C, "OOM kills in the cgroup since the previous sample", label="OOM kills"),
    _m(
        "mem_limit_events",
        C,
        "times usage hit the limit since the previous sample (max / failcnt)",
        label="limit hits",
    ),
    _m(
        "mem_high_events",
        C,
        "times usage went over memory.high since the previous sample",
        label="high events",
    ),
    _m(
        "io_read_bytes_per_s",
        Unit.BYTES_PER_S,
        "bytes the cgroup read from block devices",
        rate=True,
        label="io read",
    ),
    _m(
        "io_write_bytes_per_s",
        Unit.BYTES_PER_S,
        "bytes the cgroup wrote to block devices",
        rate=True,
        label="io write",
    ),
    # I/O limits (io.max / blkio.throttle.*_device), on the device whose use is nearest its limit
    *[
        spec
        for kind, word, unit in (
            ("rbps", "read", Unit.BYTES_PER_S),
            ("wbps", "write", Unit.BYTES_PER_S),
            ("riops", "read IOPS", Unit.PER_S),
            ("wiops", "write IOPS", Unit.PER_S),
        )
        for spec in (
            _m(
                f"io_{kind}_limit",
                unit,
                f"{word} limit of the cgroup on a device (io.max {kind})",
                label=f"io {word} limit",
            ),
            _m(
                f"io_{kind}_limit_pct",
                P,
                f"{word} use as % of its limit, on the device nearest it",
                rate=True,
                mx=100,
                label=f"io {word} of limit",
            ),
        )
    ],
    *[
        _m(
            f"psi_{res}_{kind}_pct",
            P,
            f"{res} pressure of the cgroup, '{kind}', over the last sample",
            rate=True,
            mx=100,
            label=f"{res} {kind}",
        )
        for res, kind in (
            ("cpu", "some"),
            ("cpu", "full"),
            ("memory", "some"),
            ("memory", "full"),
            ("io", "some"),
            ("io", "full"),
        )
    ],
]
