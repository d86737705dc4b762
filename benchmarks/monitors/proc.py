"""Reading a monitor's costs from /proc: CPU ticks, RSS, PSS."""

from __future__ import annotations

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_stat_ticks(text: str, children: bool = False) -> int:
    """utime + stime (fields 14 and 15) of a /proc/PID/stat line, plus with `children` the reaped
    children's cutime + cstime (16, 17); the command may hold spaces or ')'."""
    fields = text.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks + int(fields[13]) + int(fields[14]) if children else ticks


def parse_kb_fields(text: str) -> dict[str, int]:
    """'Key:   123 kB' lines (/proc/PID/status, smaps_rollup) as {key: bytes}; other lines skipped."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            out[key.strip()] = int(parts[0]) * 1024
    return out


def cpu_seconds(pid: int, children: bool = False) -> float:
    return parse_stat_ticks(Path(f"/proc/{pid}/stat").read_text(), children) / CLK_TCK


def tree_pids(pid: int) -> list[int]:
    """`pid` and its descendants (glances and py-spy users spawn children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its live descendants, plus the children each has reaped (a
    short-lived py-spy counts once reaped)."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += cpu_seconds(p, children=True)
        except (OSError, IndexError, ValueError):
            continue
    return total


def memory(pid: int) -> dict[str, int]:
    """{'rss': bytes, 'pss': bytes (None-free: absent when smaps_rollup is unreadable), 'hwm': bytes}."""
    out: dict[str, int] = {}
    status = parse_kb_fields(Path(f"/proc/{pid}/status").read_text())
    if "VmRSS" in status:
        out["rss"] = status["VmRSS"]
    if "VmHWM" in status:
        out["hwm"] = status["VmHWM"]
    try:
        rollup = parse_kb_fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except OSError:
        rollup = {}
    if "Pss" in rollup:
        out["pss"] = rollup["Pss"]
    return out
