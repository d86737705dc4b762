"""The fleet table's text: one tuple of cells per host row and per GPU row (no Textual here)."""

from __future__ import annotations

from perftui.core.units import Unit, format_bytes, format_value
from perftui.fleet.rows import GpuRow, HostRow
from perftui.fleet.state import UP
from perftui.fleet.text import visible

COLUMNS = (
    "host",
    "GPUs",
    "util mean/max",
    "SM active",
    "GPU mem",
    "power/cap",
    "CPU",
    "verdict",
    "P99",
    "fresh",
)
DASH = "—"


def _pct(v: float | None) -> str:
    return format_value(v, Unit.PERCENT)


def _pair_bytes(used: float | None, total: float | None) -> str:
    if used is None:
        return DASH
    return f"{format_bytes(used)}/{format_bytes(total)}" if total else format_bytes(used)


def _power(w: float | None, cap: float | None) -> str:
    if w is None:
        return DASH

    def kw(x: float) -> str:
        return f"{x / 1000:.1f} kW" if x >= 1000 else f"{x:.0f} W"

    if cap:
        return f"{kw(w)}/{kw(cap)} ({100 * w / cap:.0f} %)"
    return kw(w)


def age_text(row: HostRow) -> str:
    if row.age_s is None:
        return row.status
    age = f"{row.age_s:.0f} s" if row.age_s < 120 else f"{row.age_s / 60:.0f} min"
    return age if row.status == UP else f"{row.status} {age}"


def host_cells(row: HostRow, expanded: bool = False) -> tuple[str, ...]:
    mark = ("▾ " if expanded else "▸ ") if row.gpus else "  "
    if row.status != UP and row.error:
        return (mark + row.name, DASH, DASH, DASH, DASH, DASH, DASH, visible(row.error), DASH, age_text(row))
    gpus = f"{row.gpu_count}× {visible(row.gpu_model, 40)}".strip() if row.gpu_count else "0"
    util = DASH if row.util_mean is None else f"{_pct(row.util_mean)}/{_pct(row.util_max)}"
    verdict = visible(f"{row.verdict} ({row.confidence})", 60) if row.verdict else DASH
    p99 = DASH if row.p99_s is None else format_value(row.p99_s, Unit.SECONDS)
    return (
        mark + row.name,
        gpus,
        util,
        _pct(row.sm_active),
        _pair_bytes(row.mem_used, row.mem_total),
        _power(row.power_w, row.power_cap_w),
        _pct(row.cpu),
        verdict,
        p99,
        age_text(row),
    )


def gpu_cells(host: str, g: GpuRow) -> tuple[str, ...]:
    temp = "" if g.temp_c is None else f" {g.temp_c:.0f} °C"
    return (
        f"    {host} GPU {g.index}",
        "",
        _pct(g.util),
        _pct(g.sm_active),
        _pair_bytes(g.mem_used, g.mem_total),
        _power(g.power_w, g.power_cap_w),
        "",
        temp.strip(),
        "",
        "",
    )
