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
    kills = latest(p + "oom_kills")
    if kills:
        parts.append(f"{kills:.0f} OOM kills")
    return " · ".join(parts)


def cgroup_warn(latest: Latest, details: Mapping[str, Any]) -> bool:
    """Whether the line shows a limit at work (the warning style): throttled >= 25 %, memory >= 90 %
    of its limit, or an OOM kill (the lines of the rules table's CG_THROTTLED / CG_AT_LIMIT)."""
    name = _name(details)
    if name is None:
        return False
    p = f"cgroup.{name}."
    thr, pct, kills = latest(p + "throttled_pct"), latest(p + "mem_used_pct"), latest(p + "oom_kills")
    return (thr is not None and thr >= 25) or (pct is not None and pct >= 90) or bool(kills)


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
