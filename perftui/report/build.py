"""Build the report model from a recording (optionally a time window of it)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from perftui.core.redact import redact_argv, redact_text, redact_value
from perftui.core.sanitize import clean
from perftui.core.specs import REGISTRY
from perftui.core.units import Unit, format_bytes, format_value, natural_key
from perftui.efficiency.recording import with_efficiency
from perftui.efficiency.summary import EfficiencyOptions, EfficiencySection, build_efficiency
from perftui.report.model import (
    STAT_NAMES,
    Chart,
    DiagnosisSection,
    MetricRow,
    Report,
    SourceSection,
    Table,
    TimelineRow,
)
from perftui.report.probe_section import probe_tables
from perftui.report.rediagnose import also_shares, recompute, verdict_shares
from perftui.report.serving import serving_tables
from perftui.store.metric_store import compute_stats
from perftui.store.reader import Recording
from perftui.store.schema import VerdictLike

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

SOURCE_ORDER = ("gpu", "cpu", "memory", "membw", "psi", "disk", "net", "process", "stacks")
CHART_KEYS = (
    "probe.latency.p99_s",
    "probe.ttft.p99_s",
    "gpu.*.util",
    "gpu.*.sm_active",
    "gpu.*.dram_bw_util",
    "cpu.util",
    "cpu.iowait",
    "mem.used_pct",
    "psi.io.some10",
    "psi.cpu.some10",
    "proc.cpu",
)
MAX_CHARTS = 6
CHART_POINTS = 240
MAX_TABLE_ROWS = 10
MAX_TABLE_COLUMNS = 8
FIRST_COLUMNS = ("pid", "name", "command", "function", "file", "line")
# a detail's field names as a table heads them (the stack threads' fields; others read as they are)
COLUMN_TITLES = {
    "tid": "thread",
    "active": "running now",
    "owns_gil": "holds the GIL",
    "active_pct": "running %",
    "gil_pct": "GIL held %",
    "leaf": "innermost frame",
}
_PROCESS_DETAIL = re.compile(r"^(gpu(\.\d+)?\.processes|proc\..+|cgroup\.limits)$")
_STACK_DETAIL = re.compile(r"^stack\..+$")


class TimeRangeError(ValueError):
    """A --from/--to value that cannot be used; the message is one line for the user."""


def parse_time(text: str, start: float) -> float:
    """Seconds from the start of the recording (`90`, `1.5`), or an ISO time (naive = local time)."""
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or abs(seconds) > 1e10:
            raise TimeRangeError(
                f"cannot use time {clean(text, 40)!r}: give a finite number of seconds from the start"
            )
        return start + seconds
    iso = text.strip()
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(iso).timestamp()
    except (ValueError, OverflowError, OSError):
        raise TimeRangeError(
            f"cannot read time {clean(text, 40)!r}: give seconds from the start (e.g. 90) or an ISO time "
            "(e.g. 2026-01-01T12:00:00Z)"
        ) from None


def _source_of(key: str) -> str:
    spec = REGISTRY.get(key)
    return spec.source if spec and spec.source else "other"


def _metric_row(key: str, vals: FloatArray, unit_name: str) -> MetricRow | None:
    st = compute_stats(vals)
    if st is None:
        return None
    spec = REGISTRY.get(key)
    unit = spec.unit if spec else _unit(unit_name)
    stats = {name: float(value) for name, value in st.as_dict().items() if name != "count"}
    shown = {name: format_value(stats[name], unit) for name in (*STAT_NAMES, "min")}
    return MetricRow(
        key=key,
        label=spec.short_label if spec else key.rsplit(".", 1)[-1],
        description=spec.description if spec else "",
        unit=unit.value,
        count=st.count,
        stats=stats,
        shown=shown,
    )


def _unit(name: str) -> Unit:
    try:
        return Unit(name)
    except ValueError:
        return Unit.COUNT


def _sources(rec: Recording, statuses: Mapping[str, tuple[bool, str | None]]) -> tuple[SourceSection, ...]:
    rows: dict[str, list[MetricRow]] = {}
    for key in sorted(rec.series, key=natural_key):
        row = _metric_row(key, rec.series[key][1], rec.units.get(key, ""))
        if row is not None:
            rows.setdefault(_source_of(key), []).append(row)
    names = set(rows) | set(statuses)
    order = [s for s in SOURCE_ORDER if s in names] + sorted(n for n in names if n not in SOURCE_ORDER)
    out = []
    for name in order:
        available, reason = statuses.get(name, (None, None))
        out.append(SourceSection(name, available, reason, tuple(rows.get(name, ()))))
    return tuple(out)


def _system(meta: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            rows.append((label, str(value)))

    add("Host", meta.get("host"))
    add("OS", " ".join(str(meta[k]) for k in ("os", "kernel", "machine") if meta.get(k)))
    cores = [
        f"{meta[k]} {w}"
        for k, w in (("cpu_cores_logical", "logical"), ("cpu_cores_physical", "physical"))
        if meta.get(k)
    ]
    add("CPU", f"{meta.get('cpu_model', '?')}" + (f" ({', '.join(cores)} cores)" if cores else ""))
    if isinstance(meta.get("memory_bytes"), (int, float)):
        add("Memory", format_bytes(float(meta["memory_bytes"])))
    gpus = meta.get("gpus")
    if isinstance(gpus, list):
        for i, info in enumerate(gpus):
            add(f"GPU {i}", _describe_value(info))
    add("GPU driver", _describe_value(meta.get("gpu_driver")))
    add("Python", meta.get("python"))
    add("perftui (recorder)", meta.get("perftui"))
    if isinstance(meta.get("interval_s"), (int, float)):
        add("Sampling interval", f"{float(meta['interval_s']):g} s")
    cmd = meta.get("command_line")
    if isinstance(cmd, list):  # recordings made before redaction keep their secrets: redact here too
        add("Command line", " ".join(redact_argv(cmd)))
    elif isinstance(cmd, str):
        add("Command line", redact_text(cmd))
    return tuple(rows)


def _describe_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        head = str(value.get("name", ""))
        rest = [
            f"{k} {_cell(k, v)}"
            for k, v in value.items()
            if k not in ("name", "index") and v not in (None, "") and not isinstance(v, (dict, list))
        ]
        return ", ".join(p for p in [head, *rest] if p)
    return str(value)


def _cell(column: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, (int, float)):
        c = column.lower()
        if c.endswith("_bytes_per_s"):
            return format_value(float(value), Unit.BYTES_PER_S)
        if c.endswith("_bytes") or c in ("rss", "uss", "memory", "used_memory"):
            return format_bytes(float(value))
        if c.endswith(("_pct", "share", "util")) or c in ("cpu", "sm", "mem_util"):
            return format_value(float(value), Unit.PERCENT)
        if isinstance(value, int):
            return str(value)
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _tables(
    details: Mapping[str, Any], ts_of: Mapping[str, float], pattern: re.Pattern[str]
) -> tuple[Table, ...]:
    out = []
    for name in sorted(details, key=natural_key):
        value = details[name]
        if not pattern.match(name) or not isinstance(value, list) or not value:
            continue
        dict_rows = [r for r in value if isinstance(r, Mapping)]
        if not dict_rows:
            continue
        columns: list[str] = []
        for r in dict_rows:
            for k, v in r.items():
                if k not in columns and not isinstance(v, (dict,)):
                    columns.append(k)
        first = [c for c in FIRST_COLUMNS if c in columns]
        columns = (first + [c for c in columns if c not in first])[:MAX_TABLE_COLUMNS]
        rows = tuple(tuple(_cell(c, r.get(c)) for c in columns) for r in dict_rows[:MAX_TABLE_ROWS])
        titles = tuple(COLUMN_TITLES.get(c, c) for c in columns)
        out.append(Table(name, name.replace(".", " ").replace("_", " "), ts_of.get(name), titles, rows))
    return tuple(out)


def _downsample(ts: FloatArray, vals: FloatArray, points: int) -> tuple[FloatArray, FloatArray]:
    if ts.size <= points:
        return ts, vals
    edges = np.linspace(0, ts.size, points + 1).astype(np.int64)
    t_out = np.add.reduceat(ts, edges[:-1]) / np.diff(edges)
    v_out = np.add.reduceat(vals, edges[:-1]) / np.diff(edges)
    return t_out, v_out


def _charts(rec: Recording, start: float) -> tuple[Chart, ...]:
    chosen: list[str] = []
    keys = sorted(rec.series, key=natural_key)
    for pattern in CHART_KEYS:
        rx = re.compile("^" + re.escape(pattern).replace(r"\*", r"\d+") + "$")
        for key in keys:
            if rx.match(key) and key not in chosen and len(chosen) < MAX_CHARTS:
                chosen.append(key)
    out = []
    for key in chosen:
        ts, vals = rec.series[key]
        ts, vals = _downsample(ts, vals, CHART_POINTS)
        spec = REGISTRY.get(key)
        unit = spec.unit if spec else Unit.COUNT
        title = f"{key} — {spec.description}" if spec else key
        out.append(
            Chart(
                key=key,
                title=title,
                unit=unit.value,
                natural_max=spec.natural_max if spec else None,
                offsets=tuple(round(float(t - start), 3) for t in ts),
                values=tuple(float(v) for v in vals),
                shown_max=format_value(float(np.max(vals)) if vals.size else None, unit),
            )
        )
    return tuple(out)


def _rows(entries: Sequence[VerdictLike], start: float) -> tuple[TimelineRow, ...]:
    """Timeline rows; recomputed entries carry their co-bottleneck (recorded ones have it in the title)."""
    return tuple(
        TimelineRow(
            e.ts, round(e.ts - start, 3), e.verdict, e.confidence, e.title, tuple(e.evidence), _also(e)
        )
        for e in entries
    )


def _also(e: VerdictLike) -> str:
    verdict, title = getattr(e, "also_verdict", ""), getattr(e, "also", "")
    return f"{verdict}: {title}" if title else ""


def build_report(
    rec: Recording,
    t0: float | None = None,
    t1: float | None = None,
    *,
    diagnose: bool = True,
    diagnosis_step: float | None = None,
    efficiency: EfficiencyOptions | None = None,
) -> Report:
    """The report of `rec` between t0 and t1 (epoch seconds; default: all of it).

    `diagnose`: also recompute the diagnosis timeline from the recorded data through the same
    tracker the live app uses (the recorded timeline is always shown as recorded).
    """
    part = with_efficiency(rec.slice(t0, t1))  # gpu.<i>.tflops and flops_util_pct join the statistics
    start = part.start if t0 is None else t0
    end = part.end if t1 is None else t1
    if start is None or end is None:
        start = end = float(rec.meta.get("start_time") or 0.0)
    status_map = {name: (st.available, st.reason) for name, st in part.statuses_at(end).items()}
    recorded = [e for e in rec.timeline if start <= e.ts <= end]
    in_force = [e for e in rec.timeline if e.ts < start][-1:]
    recomputed = recompute(rec, start, end, step_s=diagnosis_step) if diagnose else None
    timeline_for_shares: Sequence[VerdictLike] = recomputed.timeline if recomputed else in_force + recorded
    shares = verdict_shares(timeline_for_shares, start, end)
    dominant = max(shares, key=lambda v: shares[v]) if shares else None
    note = ""
    if diagnose and recomputed is None:
        note = "the diagnosis engine could not be run on this recording; the recorded timeline is shown"
    diagnosis = DiagnosisSection(
        recorded=_rows(recorded, start),
        recomputed=_rows(recomputed.timeline, start) if recomputed else None,
        shares=shares,
        dominant=dominant,
        advice=recomputed.advice if recomputed else _recorded_advice(part),
        note=note,
        step_s=recomputed.step_s if recomputed else None,
        also_shares=also_shares(recomputed.timeline, start, end) if recomputed else {},
    )
    details = {name: redact_value(value, name) for name, value in part.details_at(end).items()}
    ts_of = {d.name: d.ts for d in part.details if d.ts <= end}
    shares_cat = []
    for key in sorted(part.series, key=natural_key):
        if key.startswith("stack.share."):
            vals = part.series[key][1]
            if vals.size:
                shares_cat.append((key.removeprefix("stack.share."), float(np.mean(vals))))
    host = rec.meta.get("host") or "unknown host"
    return Report(
        title=f"perftui report — {host}",
        system=_system(rec.meta),
        start=float(start),
        end=float(end),
        recording_start=rec.start,
        recording_end=rec.end,
        samples=part.samples,
        sources=_sources(part, status_map),
        diagnosis=diagnosis,
        processes=_tables(details, ts_of, _PROCESS_DETAIL),
        stacks=_tables(details, ts_of, _STACK_DETAIL),
        category_shares=tuple(sorted(shares_cat, key=lambda p: -p[1])),
        charts=_charts(part, float(start)),
        source_file=str(rec.path.name),
        efficiency=_efficiency(part, float(end) - float(start), efficiency),
        serving=serving_tables(part.series, float(end)),
        probe=probe_tables(rec.meta),
    )


def _efficiency(
    part: Recording, duration: float, options: EfficiencyOptions | None
) -> EfficiencySection | None:
    sec = build_efficiency(part.series, part.meta, part.details_at(), duration, options)
    if not sec.gpus and sec.tokens_per_s is None and options is None:
        return None
    return sec


def _recorded_advice(rec: Recording) -> tuple[Any, ...]:
    """Advice recorded live (detail `diagnosis.current`), when the engine cannot rerun."""
    from perftui.report.rediagnose import advice_from_details

    return advice_from_details([d.value for d in rec.details if d.name == "diagnosis.current"])
