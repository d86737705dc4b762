"""Budgets for `perftui compare --budgets FILE`: limits a recording must keep, for CI gates.

The file is TOML, one table per budget:

    [[budget]]
    metric = "probe.ttft.p99_s"   # a metric key; `*` matches any part (gpu.*.tflops: every GPU)
    limit = 0.5                   # in the metric's stored unit (seconds, bytes, %, TFLOP/s...)
    direction = "lower"           # lower: the value must stay at or below the limit (a maximum);
                                  # higher: at or above it (a minimum)
    stat = "p50"                  # optional: mean, p50 (default), p95, p99 or max

A metric the recording does not hold breaks its budget (a gate should not pass on missing data).
"""

from __future__ import annotations

import fnmatch
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perftui.core.specs import REGISTRY
from perftui.core.units import format_value
from perftui.store.metric_store import compute_stats

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

STATS = ("mean", "p50", "p95", "p99", "max")
DIRECTIONS = {"lower": "lower", "max": "lower", "higher": "higher", "min": "higher"}


class BudgetError(ValueError):
    """A budgets file that cannot be used (one line for the user)."""


@dataclass(frozen=True)
class MetricBudget:
    metric: str
    limit: float
    direction: str  # lower | higher
    stat: str = "p50"


@dataclass(frozen=True)
class BudgetResult:
    budget: MetricBudget
    key: str | None  # the matching key (None: nothing matched)
    value: float | None
    ok: bool
    text: str


def _one(i: int, raw: Any) -> MetricBudget:
    where = f"budget {i + 1}"
    if not isinstance(raw, Mapping):
        raise BudgetError(f"{where}: expected a table with metric, limit and direction")
    metric, limit = raw.get("metric"), raw.get("limit")
    direction, stat = str(raw.get("direction", "")).lower(), str(raw.get("stat", "p50")).lower()
    if not isinstance(metric, str) or not metric:
        raise BudgetError(f"{where}: `metric` must be a metric key such as probe.ttft.p99_s")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit):
        raise BudgetError(f"{where} ({metric}): `limit` must be a number")
    if direction not in DIRECTIONS:
        raise BudgetError(f"{where} ({metric}): `direction` must be lower or higher, not {direction!r}")
    if stat not in STATS:
        raise BudgetError(f"{where} ({metric}): `stat` must be one of {', '.join(STATS)}, not {stat!r}")
    return MetricBudget(metric, float(limit), DIRECTIONS[direction], stat)


def parse_budgets(text: str) -> list[MetricBudget]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BudgetError(f"not valid TOML: {exc}") from None
    raw = data.get("budget")
    if not isinstance(raw, list) or not raw:
        raise BudgetError("no [[budget]] tables (each with metric, limit and direction)")
    return [_one(i, r) for i, r in enumerate(raw)]


def load_budgets(path: str | Path) -> list[MetricBudget]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BudgetError(f"cannot read budgets file {p}: {reason}") from None
    try:
        return parse_budgets(text)
    except BudgetError as exc:
        raise BudgetError(f"{p}: {exc}") from None


def check_budgets(
    budgets: list[MetricBudget], series: Mapping[str, tuple[FloatArray, FloatArray]]
) -> list[BudgetResult]:
    out: list[BudgetResult] = []
    for b in budgets:
        keys = sorted(k for k in series if fnmatch.fnmatchcase(k, b.metric))
        if not keys:
            out.append(BudgetResult(b, None, None, False, f"{b.metric}: not in the recording"))
            continue
        for key in keys:
            st = compute_stats(series[key][1])
            if st is None:
                out.append(BudgetResult(b, key, None, False, f"{key}: no samples"))
                continue
            value = float(st.as_dict()[b.stat])
            ok = value <= b.limit if b.direction == "lower" else value >= b.limit
            unit = REGISTRY.unit(key)
            op = "≤" if b.direction == "lower" else "≥"
            verdict = "ok" if ok else "BROKEN"
            limit = f"limit {op} {format_value(b.limit, unit)}"
            text = f"{key} {b.stat} {format_value(value, unit)} ({limit}): {verdict}"
            out.append(BudgetResult(b, key, value, ok, text))
    return out
