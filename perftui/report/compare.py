"""Compare two recordings: statistics side by side, deltas, and a noise-aware verdict per metric.

Key metrics: those with a better direction (report/direction.py) and the ones that tell what the
machine did (CPU utilisation, disk and network throughput, IOPS: only "changed" or "unchanged"),
less the ones that stayed at zero in both runs. A latency per operation (disk await) is weighted by
its operations: the await of a disk that did one I/O is not compared with one that did 14k a second.
A relative delta (Δ %) is given only where the base is clearly away from zero.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from perftui.core.specs import REGISTRY
from perftui.core.units import Unit, format_value, natural_key
from perftui.efficiency.recording import with_efficiency
from perftui.report.build import build_report
from perftui.report.direction import direction
from perftui.report.model import TimelineRow
from perftui.store.metric_store import compute_stats
from perftui.store.reader import Recording

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

REL_NOISE = 0.02  # 2 % of the base median
IQR_NOISE = 0.5  # half the pooled interquartile range
PERCENT_FLOOR = 1.0  # percentage points, for % metrics
MAX_RATIO = 100.0  # no Δ % when one median is over 100× the other (a near-zero base)
MIN_OPS = 100.0  # operations a run needs before its latency per operation is compared

# the machine's work: key metrics without a better direction (more CPU use is neither good nor bad)
KEY_NEUTRAL = (
    "cpu.util", "disk.*.read_bytes_per_s", "disk.*.write_bytes_per_s", "disk.*.read_iops",
    "disk.*.write_iops", "net.*.rx_bytes_per_s", "net.*.tx_bytes_per_s",
)  # fmt: skip
# latency per operation -> the rates of the operations it averages over ({0}: the device)
LATENCY_WEIGHTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"disk\.(.+)\.await_s"), ("disk.{0}.read_iops", "disk.{0}.write_iops")),
)

NOISE_RULE = (
    "A metric is unchanged (within noise) when |median(new) − median(base)| ≤ max(2 % of |median(base)|, "
    "½ × the pooled interquartile range (IQR(base) + IQR(new)) / 2, and 1 percentage point for % metrics). "
    "Beyond that, a metric with a known better direction is improved or regressed; others are changed. "
    "No Δ % where the base median is within that noise of zero or over 100× smaller than the new one."
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
    delta_pct: float | None  # of the median; None when the base median is 0 or within noise of it
    noise: float | None
    # improved | regressed | unchanged | changed | too few operations | only in base | only in new
    result: str
    shown: dict[str, str]
    weighted_by: str | None = None  # the operation rates a latency's statistics are weighted by
    always_zero: bool = False  # every sample of both runs was 0 (not a key metric)


@dataclass(frozen=True)
class Side:
    file: str
    start: float
    end: float
    samples: int
    dominant: str | None
    shares: dict[str, float]
    title: str = ""  # the dominant verdict's finding, as it held longest
    confidence: str = ""


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


def _weighted_summary(vals: FloatArray, weights: FloatArray, interval: float) -> dict[str, float] | None:
    """Statistics of `vals` with each sample counted by its operations (`weights`: ops/s)."""
    ok = ~np.isnan(vals) & ~np.isnan(weights) & (weights > 0)
    v, w = vals[ok], weights[ok]
    if v.size == 0:
        return None
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()

    def q(p: float) -> float:
        return float(v[min(int(np.searchsorted(cum, p / 100.0)), v.size - 1)])

    d = {
        "count": float(v.size),
        "mean": float(np.average(v, weights=w)),
        "p50": q(50.0),
        "p95": q(95.0),
        "p99": q(99.0),
        "p999": q(99.9),
        "max": float(v.max()),
        "min": float(v.min()),
        "iqr": q(75.0) - q(25.0),
        "ops": float(w.sum() * interval),
    }
    return d


def _weights(key: str, rec: Recording) -> tuple[str, FloatArray] | None:
    """The operation rates `key` (a latency per operation) is weighted by, on `key`'s timestamps."""
    for rx, templates in LATENCY_WEIGHTS:
        m = rx.fullmatch(key)
        if m is None or key not in rec.series:
            continue
        ts = rec.series[key][0]
        total = np.zeros(ts.size)
        names = [t.format(*m.groups()) for t in templates]
        found = [n for n in names if n in rec.series]
        if not found:
            return None
        for name in found:
            w_ts, w_vals = rec.series[name]
            if w_ts.size == 0:
                continue
            idx = np.searchsorted(w_ts, ts).clip(0, w_ts.size - 1)  # the same sampler's ticks
            total += np.where(w_ts[idx] == ts, np.nan_to_num(w_vals[idx]), 0.0)
        return " + ".join(found), total
    return None


def _interval(rec: Recording) -> float:
    value = rec.meta.get("interval_s")
    return float(value) if isinstance(value, (int, float)) and value > 0 else 1.0


def _is_key(key: str, better: str | None) -> bool:
    return better is not None or any(fnmatch.fnmatchcase(key, p) for p in KEY_NEUTRAL)


def _near_zero(base: float, new: float, noise: float) -> bool:
    """No relative delta: the base is within noise of 0, or one median is over MAX_RATIO× the other."""
    b, n = abs(base), abs(new)
    return b == 0 or b <= noise or n > MAX_RATIO * b


def _signed(value: float, unit: Unit) -> str:
    if unit is Unit.PERCENT:
        return f"{value:+.1f} pp"
    text = format_value(abs(value), unit)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def compare_metric(
    key: str,
    base: FloatArray | None,
    new: FloatArray | None,
    *,
    weights: tuple[str, FloatArray | None, FloatArray | None, float, float] | None = None,
) -> MetricDelta:
    """One metric's delta and verdict. `weights`: (what, base ops/s, new ops/s, base and new
    interval) to weight a latency per operation by its operations."""
    spec = REGISTRY.get(key)
    unit = spec.unit if spec else Unit.COUNT
    d = direction(key)
    better = d[0] if d else None
    zero = all(v is None or bool(np.all(np.nan_to_num(v) == 0)) for v in (base, new))
    weighted_by = None
    if weights is not None:
        weighted_by, wb, wn, ib, in_ = weights
        b = _weighted_summary(base, wb, ib) if base is not None and wb is not None else None
        n = _weighted_summary(new, wn, in_) if new is not None and wn is not None else None
    else:
        b = _summary(base) if base is not None else None
        n = _summary(new) if new is not None else None
    shown: dict[str, str] = {}
    for side, s in (("base", b), ("new", n)):
        for stat in ("mean", "p50", "p95"):
            shown[f"{side}_{stat}"] = format_value(s[stat] if s else None, unit)
    source, label = (spec.source, spec.short_label) if spec else ("other", key)
    if b is None or n is None:
        if weighted_by is not None and base is not None and new is not None:
            result = "too few operations"  # a side with no operations at all
        else:
            result = "only in base" if n is None else "only in new"
        return MetricDelta(
            key, source, label, unit.value, better, b, n, {}, None, None, result, shown, weighted_by, zero
        )
    delta = {s: n[s] - b[s] for s in ("mean", "p50", "p95", "p99", "max")}
    dm = delta["p50"]
    noise = max(REL_NOISE * abs(b["p50"]), IQR_NOISE * (b["iqr"] + n["iqr"]) / 2)
    if unit is Unit.PERCENT:
        noise = max(noise, PERCENT_FLOOR)
    delta_pct = None if _near_zero(b["p50"], n["p50"], noise) else dm / abs(b["p50"]) * 100
    if weighted_by is not None and min(b.get("ops", 0.0), n.get("ops", 0.0)) < MIN_OPS:
        result = "too few operations"
    elif abs(dm) <= noise:
        result = "unchanged"
    elif better is None:
        result = "changed"
    else:
        result = "improved" if (dm > 0) == (better == "higher") else "regressed"
    for stat in ("mean", "p50", "p95"):
        shown[f"delta_{stat}"] = _signed(delta[stat], unit)
    shown["delta_pct"] = "— (base ≈ 0)" if delta_pct is None else f"{delta_pct:+.1f} %"
    shown["noise"] = format_value(noise, unit) if unit is not Unit.PERCENT else f"{noise:.1f} pp"
    return MetricDelta(
        key, source, label, unit.value, better, b, n, delta, delta_pct, noise, result, shown,
        weighted_by, zero,
    )  # fmt: skip


def _dominant_finding(rows: tuple[TimelineRow, ...], verdict: str | None, end: float) -> tuple[str, str]:
    """(title, confidence) the dominant verdict held longest in the timeline."""
    held: dict[tuple[str, str], float] = {}
    for i, row in enumerate(rows):
        if row.verdict != verdict:
            continue
        until = rows[i + 1].ts if i + 1 < len(rows) else end
        pair = (row.title, row.confidence)
        held[pair] = held.get(pair, 0.0) + max(until - row.ts, 0.0)
    if not held:
        return "", ""
    return max(held.items(), key=lambda kv: kv[1])[0]


def _side(rec: Recording) -> Side:
    report = build_report(rec)
    diag = report.diagnosis
    rows = diag.recomputed if diag.recomputed else diag.recorded
    title, confidence = _dominant_finding(rows, diag.dominant, report.end)
    return Side(
        file=str(rec.path),
        start=report.start,
        end=report.end,
        samples=report.samples,
        dominant=diag.dominant,
        shares=diag.shares,
        title=title,
        confidence=confidence,
    )


def _metric(key: str, base: Recording, new: Recording) -> MetricDelta:
    b = base.series[key][1] if key in base.series else None
    n = new.series[key][1] if key in new.series else None
    wb, wn = _weights(key, base), _weights(key, new)
    if wb is None and wn is None:
        return compare_metric(key, b, n)
    what = (wb or wn or ("", None))[0]
    weights = (what, wb[1] if wb else None, wn[1] if wn else None, _interval(base), _interval(new))
    return compare_metric(key, b, n, weights=weights)


def compare(base: Recording, new: Recording) -> Comparison:
    base, new = with_efficiency(base), with_efficiency(new)  # gpu.<i>.tflops, flops_util_pct compared too
    keys = sorted(set(base.series) | set(new.series), key=natural_key)
    metrics = tuple(_metric(k, base, new) for k in keys)
    key_metrics = tuple(m for m in metrics if _is_key(m.key, m.better) and not m.always_zero)
    return Comparison(_side(base), _side(new), NOISE_RULE, key_metrics, metrics)


def regressions(c: Comparison) -> list[MetricDelta]:
    """The key metrics that regressed beyond the noise rule (`--fail-on-regression`)."""
    return [m for m in c.key_metrics if m.result == "regressed"]
