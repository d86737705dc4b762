"""The report's serving tables: latency P50–P99.9 against the budget, and cost/efficiency, per server.

Quantiles are the last recorded window (`serve.<sid>.<lat>.<q>_s`, from histogram buckets); the worst
P99 over the range is shown beside them. Cost appears only when a GPU-hour price was given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np

from perftui.core.slo import format_seconds
from perftui.report.model import Table

_LAT = {"ttft": "TTFT", "itl": "ITL", "e2e": "end-to-end", "queue": "queue"}
_Q = ("p50", "p95", "p99", "p999")
_SID = re.compile(r"^serve\.([^.]+)\.")


def _last(series: Mapping[str, tuple[np.ndarray, np.ndarray]], key: str) -> float | None:
    if key not in series:
        return None
    vals = series[key][1]
    vals = vals[np.isfinite(vals)]
    return float(vals[-1]) if vals.size else None


def _stat(series: Mapping[str, tuple[np.ndarray, np.ndarray]], key: str, fn: str) -> float | None:
    if key not in series:
        return None
    vals = series[key][1]
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return None
    return float(np.max(vals) if fn == "max" else np.mean(vals))


def _s(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else format_seconds(v)


def serving_tables(
    series: Mapping[str, tuple[np.ndarray, np.ndarray]], end: float | None
) -> tuple[Table, ...]:
    sids = sorted({m.group(1) for k in series if (m := _SID.match(k))})
    out: list[Table] = []
    for sid in sids:
        p = f"serve.{sid}."
        rows = []
        for lat, label in _LAT.items():
            qs = [_last(series, f"{p}{lat}.{q}_s") for q in _Q]
            mean = _last(series, f"{p}{lat}.mean_s")
            if all(q is None for q in qs) and mean is None:
                continue
            budget = _last(series, f"{p}{lat}.budget_s")
            p99 = qs[2]
            verdict = "—"
            if budget is not None and p99 is not None:
                verdict = "over budget" if p99 > budget else "within budget"
            lo, hi = (
                _last(series, f"{p}{lat}.over_budget_lo_pct"),
                _last(series, f"{p}{lat}.over_budget_hi_pct"),
            )
            share = "—" if lo is None or hi is None else f"{lo:.1f}–{hi:.1f} %"
            worst = _stat(series, f"{p}{lat}.p99_s", "max")
            rows.append((label, *(_s(q) for q in qs), _s(worst), _s(mean), _s(budget), verdict, share))
        if rows:
            cols = (
                "latency",
                "P50",
                "P95",
                "P99",
                "P99.9",
                "worst P99",
                "mean",
                "P99 budget",
                "vs budget",
                "over",
            )
            out.append(
                Table(
                    f"serve.{sid}.latency",
                    f"{sid}: latency (last window, from buckets)",
                    end,
                    cols,
                    tuple(rows),
                )
            )
        eff = []
        n_gpus = _last(series, p + "cost_gpus")
        on = f" ({n_gpus:g} GPU{'' if n_gpus == 1 else 's'})" if n_gpus is not None else ""
        for key, label, fmt in (
            ("requests_per_s", "requests/s", "{:.2f}"),
            ("gen_tokens_per_s", "generated tokens/s", "{:.1f}"),
            ("prompt_tokens_per_s", "prompt tokens/s", "{:.1f}"),
            ("tokens_per_joule", "generated tokens per joule (all GPUs)", "{:.3g}"),
            ("cost_per_1k_tokens", f"USD per 1K generated tokens{on}", "${:.4f}"),
            ("cost_per_request", f"USD per request{on}", "${:.5f}"),
        ):
            v = _stat(series, p + key, "mean")
            if v is not None:
                eff.append((label, fmt.format(v)))
        if eff:
            out.append(
                Table(
                    f"serve.{sid}.efficiency",
                    f"{sid}: throughput, efficiency, cost (mean)",
                    end,
                    ("figure", "value"),
                    tuple(eff),
                )
            )
    return tuple(out)
