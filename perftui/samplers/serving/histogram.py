"""Classic Prometheus histograms: deltas between scrapes, PromQL `histogram_quantile`, share over a budget.

The quantile follows Prometheus `promql/quantile.go` `BucketQuantile` (SERVING.md §3): linear
interpolation inside the bucket holding the rank, the lowest bucket starting at 0, and a rank in the
+Inf bucket clamped to the last finite bound. Unlike PromQL, every quantile here also carries the
bucket it lies in, so a face can say "≈0.41 s (0.25–0.5)" or "> 80 s" and never claim more precision
than the buckets give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

QUANTILES: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999))


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts by upper bound (ascending, the last one +Inf), plus sum and count."""

    bounds: tuple[float, ...]
    counts: tuple[float, ...]
    total: float  # _sum
    count: float  # _count (== counts[-1] for a well-formed histogram)

    @staticmethod
    def from_buckets(buckets: dict[float, float], total: float, count: float | None = None) -> Histogram:
        """Merge duplicate bounds, sort, force the counts monotonic (as Prometheus does), add +Inf."""
        bounds = sorted(buckets)
        counts = [buckets[b] for b in bounds]
        if not bounds or not math.isinf(bounds[-1]):
            bounds.append(math.inf)
            counts.append(count if count is not None else (counts[-1] if counts else 0.0))
        for i in range(1, len(counts)):
            if counts[i] < counts[i - 1]:
                counts[i] = counts[i - 1]
        return Histogram(tuple(bounds), tuple(counts), total, counts[-1] if count is None else count)

    def merged(self, other: Histogram) -> Histogram:
        """Sum of two histograms with the same bounds (`sum by (le)`); self when the bounds differ."""
        if other.bounds != self.bounds:
            return self
        counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return Histogram(self.bounds, counts, self.total + other.total, self.count + other.count)

    def minus(self, prev: Histogram | None) -> Histogram | None:
        """The observations since `prev`; None after a counter reset (fewer observations than before)."""
        if prev is None or prev.bounds != self.bounds:
            return None
        if self.counts[-1] < prev.counts[-1] or any(
            a < b for a, b in zip(self.counts, prev.counts, strict=True)
        ):
            return None
        counts = tuple(a - b for a, b in zip(self.counts, prev.counts, strict=True))
        return Histogram(self.bounds, counts, self.total - prev.total, self.count - prev.count)


@dataclass(frozen=True)
class Quantile:
    """A quantile estimated from buckets: the interpolated value and the bucket [lo, hi] it lies in."""

    value: float
    lo: float
    hi: float  # +Inf when the rank fell in the +Inf bucket (value is then the last finite bound)

    @property
    def above_last(self) -> bool:
        return math.isinf(self.hi)

    def describe(self) -> str:
        """'≈0.41 s (0.25–0.5)' or '> 80 s' (the rank is past the last finite bound)."""
        if self.above_last:
            return f"> {_num(self.lo)} s"
        return f"≈{_num(self.value)} s ({_num(self.lo)}–{_num(self.hi)})"


def _num(x: float) -> str:
    return f"{x:.3g}"


def bucket_quantile(q: float, h: Histogram) -> Quantile | None:
    """PromQL `histogram_quantile(q, …)` on one (delta or cumulative) histogram; None with no observations."""
    n = h.counts[-1] if h.counts else 0.0
    if n <= 0 or not 0.0 <= q <= 1.0:
        return None
    rank = q * n
    b = next(i for i, c in enumerate(h.counts) if c >= rank)
    if b == len(h.counts) - 1:  # the +Inf bucket
        last = h.bounds[-2] if len(h.bounds) > 1 else 0.0
        return Quantile(last, last, math.inf)
    if b == 0 and h.bounds[0] <= 0:
        return Quantile(h.bounds[0], h.bounds[0], h.bounds[0])
    lo = h.bounds[b - 1] if b > 0 else 0.0
    below = h.counts[b - 1] if b > 0 else 0.0
    inside = h.counts[b] - below
    value = lo + (h.bounds[b] - lo) * ((rank - below) / inside if inside > 0 else 1.0)
    return Quantile(value, lo, h.bounds[b])


def quantiles(h: Histogram | None) -> dict[str, Quantile]:
    if h is None:
        return {}
    out: dict[str, Quantile] = {}
    for name, q in QUANTILES:
        est = bucket_quantile(q, h)
        if est is not None:
            out[name] = est
    return out


def mean(h: Histogram | None) -> float | None:
    if h is None or h.count <= 0:
        return None
    return h.total / h.count


def share_over(h: Histogram | None, budget_s: float) -> tuple[float, float] | None:
    """Share (0–1) of observations above `budget_s`: (lower bound, upper bound) from the buckets.

    Observations in the bucket that straddles the budget may lie on either side: the lower bound
    counts only buckets entirely above it, the upper bound also counts the straddling one.
    """
    if h is None or h.counts[-1] <= 0:
        return None
    n = h.counts[-1]
    surely_below = 0.0  # observations in buckets whose upper bound ≤ budget
    maybe_below = 0.0  # ... plus the bucket that straddles the budget
    lower = 0.0
    for bound, c in zip(h.bounds, h.counts, strict=True):
        if bound <= budget_s:
            surely_below, lower = c, bound
        else:
            maybe_below = (
                c if lower < budget_s else surely_below
            )  # a bucket starting at the budget is above it
            break
    return (max(0.0, (n - maybe_below) / n), max(0.0, (n - surely_below) / n))
