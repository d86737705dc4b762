"""Content of the container-limits line (attached process's cgroup) and the header's container fact.

Pure builders over what the store holds (`cgroup.<name>.*` values and the cgroup sampler's details):
no Textual, no I/O, so the dashboard, replay and tests share them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.units import Unit, format_value

Latest = Callable[[str], float | None]


def _name(details: Mapping[str, Any]) -> str | None:
    name = details.get("cgroup.attached")
    return name if isinstance(name, str) and name else None


def cgroup_line(latest: Latest, details: Mapping[str, Any]) -> str:
    """One line for the attached process's container limits, e.g.
    `docker 3f2a9c1b2d4e · CPU 0.20 of 0.2 quota, throttled 99 % · mem 255 MiB of 256 MiB (100 %)`."""
    name = _name(details)
    if name is None:
        note = details.get("cgroup.note")
        return str(note) if note else "no container limits (not attached, or the root cgroup)"
    groups = details.get("cgroup.groups")
    info = groups.get(name) if isinstance(groups, Mapping) else None
    label = str(info.get("label")) if isinstance(info, Mapping) and info.get("label") else name
    p = f"cgroup.{name}."
    parts = [label]
    quota, used, thr = (
        latest(p + "cpu_quota_cores"),
        latest(p + "cpu_used_cores"),
        latest(p + "throttled_pct"),
    )
    if quota is not None:
        cpu = f"CPU {used:.2f} of {quota:.2g} quota" if used is not None else f"CPU quota {quota:.2g}"
        if thr is not None:
            cpu += f", throttled {format_value(thr, Unit.PERCENT)}"
        parts.append(cpu)
    elif used is not None:
        parts.append(f"CPU {used:.2f} (no quota)")
    mem, lim, pct = latest(p + "mem_used_bytes"), latest(p + "mem_limit_bytes"), latest(p + "mem_used_pct")
    high = latest(p + "mem_high_bytes")
    if mem is not None:
        cap = lim if lim is not None else high
        if cap is not None:
            parts.append(
                f"mem {format_value(mem, Unit.BYTES)} of {format_value(cap, Unit.BYTES)} "
                f"({format_value(pct, Unit.PERCENT)})"
            )
        else:
            parts.append(f"mem {format_value(mem, Unit.BYTES)} (no limit)")
    io = io_limits_text(latest, p, info)
    if io:
        parts.append(io)
    kills = latest(p + "oom_kills")
    if kills:
        parts.append(f"{kills:.0f} OOM kills")
    return " · ".join(parts)


IO_KINDS = (("rbps", "read"), ("wbps", "write"), ("riops", "read"), ("wiops", "write"))


def io_limits_text(latest: Latest, p: str, info: object) -> str:
    """The I/O limits that are set, e.g. `I/O limit write 10.0 MB/s on 253:0 (98 %)`; '' when none."""
    devs = info.get("io_devices") if isinstance(info, Mapping) else None
    out = []
    for kind, word in IO_KINDS:
        lim = latest(f"{p}io_{kind}_limit")
        if lim is None:
            continue
        val = format_value(lim, Unit.BYTES_PER_S) if kind.endswith("bps") else f"{lim:.0f} IOPS"
        dev = devs.get(kind) if isinstance(devs, Mapping) else None
        use = latest(f"{p}io_{kind}_limit_pct")
        out.append(
            f"{word} {val}"
            + (f" on {dev}" if isinstance(dev, str) and dev else "")
            + (f" ({format_value(use, Unit.PERCENT)})" if use is not None else "")
        )
    return "I/O limit " + ", ".join(out) if out else ""


def cgroup_warn(latest: Latest, details: Mapping[str, Any]) -> bool:
    """Whether the line shows a limit at work (the warning style): throttled >= 25 %, memory >= 90 %
    of its limit, I/O >= 90 % of an I/O limit, or an OOM kill (the lines of the rules table's
    CG_THROTTLED / CG_AT_LIMIT / CG_IO_LIMIT)."""
    name = _name(details)
    if name is None:
        return False
    p = f"cgroup.{name}."
    thr, pct, kills = latest(p + "throttled_pct"), latest(p + "mem_used_pct"), latest(p + "oom_kills")
    io = [latest(f"{p}io_{kind}_limit_pct") for kind, _w in IO_KINDS]
    at_io = any(v is not None and v >= 90 for v in io)  # CG_IO_LIMIT
    return (thr is not None and thr >= 25) or (pct is not None and pct >= 90) or bool(kills) or at_io


def container_fact(details: Mapping[str, Any]) -> str | None:
    """The header's fact when perftui itself runs in a container (None outside one)."""
    facts = details.get("cgroup.self")
    if not isinstance(facts, Mapping) or not facts.get("in_container"):
        return None
    limits = []
    q = facts.get("cpu_quota_cores")
    if isinstance(q, (int, float)):
        limits.append(f"{q:.2g} CPU")
    m = facts.get("mem_limit_bytes")
    if isinstance(m, (int, float)):
        limits.append(format_value(float(m), Unit.BYTES))
    own = f"; its limits {', '.join(limits)}" if limits else ""
    return f"in a container ({facts.get('reason', '')}): host-wide figures may be partial{own}"
