"""Bucket quantiles as PromQL histogram_quantile computes them, with their bucket; shares over budget."""

from __future__ import annotations

import math

import pytest

from perftui.samplers.serving.histogram import Histogram, bucket_quantile, quantiles, share_over


def hist(bounds: list[float], cumulative: list[float], total: float = 0.0) -> Histogram:
    return Histogram.from_buckets(dict(zip([*bounds, math.inf], cumulative, strict=True)), total)


def test_linear_interpolation_inside_the_bucket_like_promql() -> None:
    # 100 observations: 50 in (0, 0.25], 40 in (0.25, 0.5], 10 in (0.5, 1]
    h = hist([0.25, 0.5, 1.0], [50, 90, 100, 100])
    q = bucket_quantile(0.5, h)
    assert q is not None and q.value == pytest.approx(0.25) and (q.lo, q.hi) == (0.0, 0.25)
    q = bucket_quantile(0.7, h)  # rank 70: 20 of the 40 in (0.25, 0.5]
    assert q is not None and q.value == pytest.approx(0.375) and (q.lo, q.hi) == (0.25, 0.5)
    assert q.describe() == "≈0.375 s (0.25–0.5)"
    q = bucket_quantile(0.99, h)
    assert q is not None and q.value == pytest.approx(0.95) and (q.lo, q.hi) == (0.5, 1.0)


def test_rank_in_the_inf_bucket_is_clamped_and_says_so() -> None:
    h = hist([0.1, 0.2], [10, 20, 100])
    q = bucket_quantile(0.99, h)
    assert q is not None and q.value == 0.2 and q.above_last
    assert q.describe() == "> 0.2 s"


def test_no_observations_no_quantile_and_monotonic_fix() -> None:
    assert bucket_quantile(0.5, hist([1.0], [0, 0])) is None
    assert quantiles(None) == {}
    h = hist([1.0, 2.0], [5, 4, 6])  # a non-monotonic scrape is made monotonic, as Prometheus does
    assert h.counts == (5, 5, 6)


def test_delta_and_counter_reset() -> None:
    a = hist([1.0], [10, 10], 5.0)
    b = hist([1.0], [15, 20], 20.0)
    d = b.minus(a)
    assert d is not None and d.counts == (5, 10) and d.total == 15.0
    assert a.minus(b) is None  # fewer observations than before: a restart, no window this tick


def test_share_over_budget_is_bounded_by_the_straddling_bucket() -> None:
    h = hist([0.1, 0.2, 0.4], [50, 80, 95, 100])
    lo, hi = share_over(h, 0.15) or (0, 0)
    assert (lo, hi) == (pytest.approx(0.20), pytest.approx(0.50))  # the (0.1, 0.2] bucket could go either way
    lo, hi = share_over(h, 0.2) or (0, 0)
    assert lo == hi == pytest.approx(0.20)  # a budget on a bound is exact
