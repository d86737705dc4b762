"""What a recording keeps of the `proctable` detail: the rows that can be a culprit, not the whole table.

The live table holds every process (~29 kB per 100 processes); written at each change it would add
~20 MB an hour to a recording that otherwise grows ~1.3 MB. A report needs only the processes a verdict
can name: the top few by CPU, resident memory, disk and GPU memory (the culprits' resources) and a few
in I/O wait (state D), so a recording keeps their union, with short command lines and rounded rates,
every RECORD_PERIOD_S.
"""

from __future__ import annotations

from typing import Any

DETAIL_KEY = "proctable"
RECORD_PERIOD_S = 10.0  # a 10 s diagnosis window sees at least one table
TOP_PER_RESOURCE = 5
CMDLINE_CHARS = 120
_RANKED = ("cpu_pct", "rss_bytes", "disk_bps", "gpu_mem_bytes")


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


def _slim(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("cpu_pct", "disk_bps", "sm_pct"):
        v = out.get(key)
        if isinstance(v, float):
            out[key] = round(v, 1)
    cmd = out.get("cmdline")
    if isinstance(cmd, str) and len(cmd) > CMDLINE_CHARS:
        out["cmdline"] = cmd[: CMDLINE_CHARS - 1] + "…"
    return out


def recorded_table(value: Any) -> Any:
    """The part of a `proctable` detail worth a recording (same shape: {"ts", "rows"}, CPU % order)."""
    if not isinstance(value, dict) or not isinstance(value.get("rows"), list):
        return value
    rows = [r for r in value["rows"] if isinstance(r, dict)]
    keep: dict[int, dict[str, Any]] = {}
    for key in _RANKED:
        ranked = sorted((r for r in rows if _num(r.get(key)) > 0), key=lambda r: -_num(r.get(key)))
        for r in ranked[:TOP_PER_RESOURCE]:
            keep.setdefault(id(r), r)
    for r in [r for r in rows if str(r.get("state") or "").startswith("D")][:TOP_PER_RESOURCE]:
        keep.setdefault(id(r), r)  # in I/O wait (uninterruptible sleep): io-bound findings name them
    kept = sorted(keep.values(), key=lambda r: -_num(r.get("cpu_pct")))
    return {**value, "rows": [_slim(r) for r in kept], "of": len(rows)}
