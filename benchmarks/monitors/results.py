"""Summaries of the runs, the machine description, and the JSON and Markdown outputs."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from monitors.session import RunResult
from monitors.stats import Summary, fmt, paired_slowdowns, summarise

MB = 1 / 1e6
MS = 1e3
METRICS = (
    "first_frame_s",
    "first_paint_s",
    "cpu_pct",
    "bytes_per_s",
    "rss_bytes",
    "pss_bytes",
    "key_open_s",
    "key_close_s",
)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(OSError, IndexError, ValueError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024

    def version(cmd: list[str]) -> str:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else ""
        except (OSError, subprocess.TimeoutExpired):
            return ""

    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_bytes": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "tmux": version(["tmux", "-V"]),
        "btop": version(["btop", "--version"]),
        "htop": version(["htop", "--version"]),
    }


def _f(value: float | None, scale: float = 1.0, spec: str = ".2f") -> str:
    return "–" if value is None else format(value * scale, spec)


def progress(r: RunResult) -> str:
    """One line per run, as it finishes."""
    obs = _f(summarise(paired_slowdowns(r.observer_pairs)).median, spec="+.1f")
    return (
        f"{r.size:>6} {r.tool:<13} cpu {_f(r.cpu_pct)} %  {_f(r.bytes_per_s, 1e-3, '.1f')} kB/s  "
        f"rss {_f(r.rss_bytes, MB, '.1f')} MB  pss {_f(r.pss_bytes, MB, '.1f')} MB  "
        f"first {_f(r.first_frame_s, spec='.3f')} s  key {_f(r.key_open_s, MS, '.0f')} ms  "
        f"observer {obs} %  load {r.load_before:.2f}{'  ERROR ' + r.error if r.error else ''}"
    )


def summarise_runs(runs: list[RunResult]) -> dict[str, Summary]:
    out = {m: summarise(getattr(r, m) for r in runs) for m in METRICS}
    out["observer_pct"] = summarise(paired_slowdowns([p for r in runs for p in r.observer_pairs]))
    return out


def group(runs: list[RunResult]) -> dict[tuple[str, str], list[RunResult]]:
    g: dict[tuple[str, str], list[RunResult]] = {}
    for r in runs:
        g.setdefault((r.size, r.tool), []).append(r)
    return g


def to_json(meta: dict[str, Any], runs: list[RunResult], headless: dict[str, Any]) -> dict[str, Any]:
    summary = {
        f"{size} {tool}": {k: s.to_json() for k, s in summarise_runs(rs).items()}
        for (size, tool), rs in group(runs).items()
    }
    return {"meta": meta, "summary": summary, "runs": [r.to_json() for r in runs], "headless": headless}


def dashboard_table(runs: list[RunResult]) -> list[str]:
    lines = [
        "| size | tool | CPU % of a core | terminal kB/s | RSS MB | PSS MB | first paint s | first frame s "
        "| key → screen ms | observer effect % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (size, tool), rs in group(runs).items():
        s = summarise_runs(rs)
        errors = sorted({r.error for r in rs if r.error})
        note = f" ({'; '.join(e[:60] for e in errors)})" if errors else ""
        lines.append(
            f"| {size} | {tool}{note} | {fmt(s['cpu_pct'])} | {fmt(s['bytes_per_s'], 1e-3, 1)} | "
            f"{fmt(s['rss_bytes'], MB, 0)} | {fmt(s['pss_bytes'], MB, 0)} | {fmt(s['first_paint_s'])} | "
            f"{fmt(s['first_frame_s'])} | "
            f"{fmt(s['key_open_s'], MS, 0)} | {fmt(s['observer_pct'], 1.0, 1)} |"
        )
    return lines


def _s(values: list[float] | None, scale: float = 1.0, digits: int = 2) -> str:
    return fmt(summarise(values or []), scale, digits)


def headless_table(h: dict[str, Any]) -> list[str]:
    lines = ["| headless | figure |", "|---|---:|"]
    rec = h.get("record") or []
    if rec:
        lines.append(f"| `perftui record` CPU % of a core (1 s) | {_s([r.get('cpu_pct') for r in rec])} |")
        lines.append(
            f"| `perftui record` MB per hour (growth of the file) "
            f"| {_s(h.get('record_bytes_per_hour'), MB, 2)} |"
        )
    hour = h.get("hour") or {}
    if hour:
        lines.append(
            f"| one-hour recording ({hour.get('keys')} keys, {hour.get('points', 0):,} points) MB "
            f"| {hour.get('bytes', 0) * MB:.2f} |"
        )
    op = h.get("open") or {}
    if op:
        lines.append(f"| `perftui report` on it, end to end s | {_s(op.get('report_s'))} |")
        lines.append(f"| replay load (open + every point into a store) s | {_s(op.get('replay_load_s'))} |")
        lines.append(f"| replay load incl. interpreter start s | {_s(op.get('replay_load_wall_s'))} |")
    at = h.get("attach") or {}
    if at and "error" not in at:
        lines.append(f"| attached target slowdown, wall % | {_s(at.get('slowdown_wall_pct'), 1.0, 1)} |")
        lines.append(
            f"| attached target slowdown, per CPU-s % | {_s(at.get('slowdown_per_cpu_s_pct'), 1.0, 1)} |"
        )
        lines.append(f"| attached: perftui + py-spy CPU % | {_s(at.get('perftui_cpu_pct'), 1.0, 1)} |")
    elif at:
        lines.append(f"| attached target slowdown | {at['error']} |")
    return lines


def markdown(meta: dict[str, Any], runs: list[RunResult], headless: dict[str, Any]) -> str:
    m = meta["machine"]
    out = [
        f"Measured {meta['started']} on {m['cpus']} × {m['cpu']}, {m['memory_bytes'] / 2**30:.1f} GiB, "
        f"Linux {m['kernel']}, {m['tmux']}, {m['btop']}, {m['htop']}; load average before "
        f"{meta['load_before']:.2f}, after {meta['load_after']:.2f}.",
        f"{meta['runs']} runs per tool and size, tools alternating; CPU and bytes over "
        f"{meta['duration_s']:g} s (80×24: {meta['small_duration_s']:g} s) after {meta['warmup_s']:g} s; "
        "every monitor at 1 s refresh unless named; cells are median [min–max].",
        f"nvitop: {meta['nvitop']}.",
        "",
        *dashboard_table(runs),
        "",
        *headless_table(headless),
        "",
        f"Reproduce: `{meta['command']}`",
    ]
    return "\n".join(out) + "\n"


def write(out_dir: Path, meta: dict[str, Any], runs: list[RunResult], headless: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(to_json(meta, runs, headless), indent=1) + "\n")
    (out_dir / "latest.md").write_text(markdown(meta, runs, headless))
