"""Compare two recordings: statistics side by side, deltas, and a noise-aware verdict per metric."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from perftui.core.specs import REGISTRY
from perftui.core.units import Unit, format_value, natural_key
from perftui.efficiency.recording import with_efficiency
from perftui.report.build import build_report
from perftui.report.direction import direction
from perftui.store.metric_store import compute_stats
from perftui.store.reader import Recording
from perftui.store.ring import FloatArray

REL_NOISE = 0.02  # 2 % of the base median
IQR_NOISE = 0.5  # half the pooled interquartile range
PERCENT_FLOOR = 1.0  # percentage points, for % metrics

NOISE_RULE = (
    "A metric is unchanged (within noise) when |median(new) − median(base)| ≤ max(2 % of |median(base)|, "
    "½ × the pooled interquartile range (IQR(base) + IQR(new)) / 2, and 1 percentage point for % metrics). "
    "Beyond that, a metric with a known better direction is improved or regressed; others are changed."
)


@dataclass(frozen=True)
class MetricDelta:
    key: str
    source: str
    label: str
    unit: str
    better: str | None  # "higher", "lower" or None (no better direction)
    base: dict[str, float] | None
    new: dict[str, float] | None
    delta: dict[str, float]  # new - base for mean, p50, p95, p99, max
    delta_pct: float | None  # of the median; None when the base median is 0
    noise: float | None
    result: str  # improved | regressed | unchanged | changed | only in base | only in new
    shown: dict[str, str]


@dataclass(frozen=True)
class Side:
    file: str
    start: float
    end: float
    samples: int
    dominant: str | None
    shares: dict[str, float]


@dataclass(frozen=True)
class Comparison:
    base: Side
    new: Side
    noise_rule: str
    key_metrics: tuple[MetricDelta, ...]
    metrics: tuple[MetricDelta, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.key_metrics:
            out[m.result] = out.get(m.result, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["summary"] = self.counts()
        return d


def _summary(vals: FloatArray) -> dict[str, float] | None:
    st = compute_stats(vals)
    if st is None:
        return None
    v = vals[~np.isnan(vals)]
    q25, q75 = np.percentile(v, [25.0, 75.0])
    d = {k: float(x) for k, x in st.as_dict().items()}
    d["iqr"] = float(q75 - q25)
    return d


def _signed(value: float, unit: Unit) -> str:
    if unit is Unit.PERCENT:
        return f"{value:+.1f} pp"
    text = format_value(abs(value), unit)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def compare_metric(key: str, base: FloatArray | None, new: FloatArray | None) -> MetricDelta:
    spec = REGISTRY.get(key)
    unit = spec.unit if spec else Unit.COUNT
    d = direction(key)
    better = d[0] if d else None
    b = _summary(base) if base is not None else None
    n = _summary(new) if new is not None else None
    shown: dict[str, str] = {}
    for side, s in (("base", b), ("new", n)):
        for stat in ("mean", "p50", "p95"):
            shown[f"{side}_{stat}"] = format_value(s[stat] if s else None, unit)
    if b is None or n is None:
        result = "only in base" if n is None else "only in new"
        return MetricDelta(
            key, spec.source if spec else "other", spec.short_label if spec else key, unit.value,
            better, b, n, {}, None, None, result, shown,
        )  # fmt: skip
    delta = {s: n[s] - b[s] for s in ("mean", "p50", "p95", "p99", "max")}
    dm = delta["p50"]
    delta_pct = dm / abs(b["p50"]) * 100 if b["p50"] != 0 else None
    noise = max(REL_NOISE * abs(b["p50"]), IQR_NOISE * (b["iqr"] + n["iqr"]) / 2)
    if unit is Unit.PERCENT:
        noise = max(noise, PERCENT_FLOOR)
    if abs(dm) <= noise:
        result = "unchanged"
    elif better is None:
        result = "changed"
    else:
        result = "improved" if (dm > 0) == (better == "higher") else "regressed"
    for stat in ("mean", "p50", "p95"):
        shown[f"delta_{stat}"] = _signed(delta[stat], unit)
    shown["delta_pct"] = "—" if delta_pct is None else f"{delta_pct:+.1f} %"
    shown["noise"] = format_value(noise, unit) if unit is not Unit.PERCENT else f"{noise:.1f} pp"
    return MetricDelta(
        key, spec.source if spec else "other", spec.short_label if spec else key, unit.value,
        better, b, n, delta, delta_pct, noise, result, shown,
    )  # fmt: skip


def _side(rec: Recording) -> Side:
    report = build_report(rec)
    return Side(
        file=str(rec.path),
        start=report.start,
        end=report.end,
        samples=report.samples,
        dominant=report.diagnosis.dominant,
        shares=report.diagnosis.shares,
    )


def compare(base: Recording, new: Recording) -> Comparison:
    base, new = with_efficiency(base), with_efficiency(new)  # gpu.<i>.tflops, flops_util_pct compared too
    keys = sorted(set(base.series) | set(new.series), key=natural_key)
    metrics = tuple(
        compare_metric(
            k,
            base.series[k][1] if k in base.series else None,
            new.series[k][1] if k in new.series else None,
        )
        for k in keys
    )
    key_metrics = tuple(m for m in metrics if m.better is not None)
    return Comparison(_side(base), _side(new), NOISE_RULE, key_metrics, metrics)


def regressions(c: Comparison) -> list[MetricDelta]:
    """The key metrics that regressed beyond the noise rule (`--fail-on-regression`)."""
    return [m for m in c.key_metrics if m.result == "regressed"]
