"""The incremental sparkline (SparkCache) draws exactly what a fresh computation draws."""

from __future__ import annotations

import random

import numpy as np
import pytest

from perftui.store.metric_store import MetricStore
from perftui.store.ring import RingBuffer
from perftui.ui.spark_cache import SparkCache
from perftui.ui.sparkline import carry, carry_tail, sparkline


def _fresh(store: MetricStore, key: str, *, window: float, width: int, gap: float, hi: float | None) -> str:
    end = store.last_ts
    assert end is not None
    ts, vals = store.window(key, window + 2 * window / width)
    return sparkline(ts, vals, end=end, window=window, width=width, gap=gap, hi=hi)


@pytest.mark.parametrize("hi", [None, 100.0], ids=["autoscale", "fixed-scale"])
@pytest.mark.parametrize("cheap_fetch", [True, False], ids=["after", "window"])
@pytest.mark.parametrize("seed", [7, 11])
def test_incremental_frames_match_a_fresh_computation(hi: float | None, cheap_fetch: bool, seed: int) -> None:
    rng = random.Random(seed)
    store = MetricStore()
    cache = SparkCache()
    t = 1_000.0
    window, width, gap = 60.0, 37, 2.5
    frames = tails = 0
    for step in range(800):
        t += rng.choice([0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 3.7, 12.0])  # jitter, pauses, a stopped source
        for _ in range(rng.choice([1, 1, 1, 1, 3])):  # now and then several samples between frames
            value = (
                float("nan") if rng.random() < 0.05 else rng.uniform(0, 100 if rng.random() < 0.9 else 130)
            )
            store.append(t, {"x": value})
            t += 0.1
        t -= 0.1
        if rng.random() < 0.7:
            if step % 150 == 149:  # the window or the width changes now and then
                window = rng.choice([60.0, 300.0, 900.0])
                width = rng.choice([12, 37, 80])
            if step % 97 == 96:  # and the gap (the sampling interval changed)
                gap = 27.5 - gap
            before = cache._entries.get(("x", width))
            got = cache.sparkline(
                "x",
                lambda s: store.points("x", s),
                end=t,
                window=window,
                width=width,
                gap=gap,
                hi=hi,
                fetch_new=(lambda t0: store.after("x", t0, limit=2)) if cheap_fetch else None,
            )
            assert got == _fresh(store, "x", window=window, width=width, gap=gap, hi=hi), step
            frames += 1
            tails += before is not None and cache._entries[("x", width)] is before
    assert frames > 400
    assert tails > frames // 2  # most frames took the incremental path


def test_carry_tail_is_the_tail_of_carry() -> None:
    rng = random.Random(3)
    for _ in range(300):
        cols = [None if rng.random() < 0.5 else rng.uniform(0, 9) for _ in range(rng.randint(0, 30))]
        gap, col_s = rng.choice([0.5, 1.0, 2.5, 7.0]), rng.choice([0.5, 1.0, 2.0])
        full = carry(cols, gap, col_s)
        for start in range(len(cols) + 1):
            assert carry_tail(cols, start, gap, col_s) == full[start:]


def test_ring_after_reads_the_newest_points_or_declines() -> None:
    ring = RingBuffer(5)
    assert ring.after(0.0, 3) == ([], [])
    for i in range(8):  # wraps around
        ring.append(float(i), float(10 * i))
    assert ring.after(5.0, 3) == ([6.0, 7.0], [60.0, 70.0])
    assert ring.after(7.0, 3) == ([], [])
    assert ring.after(4.0, 3) == ([5.0, 6.0, 7.0], [50.0, 60.0, 70.0])
    assert ring.after(3.0, 3) is None  # four newer than 3.0: more than the limit
    assert ring.after(-1.0, 5) == ([3.0, 4.0, 5.0, 6.0, 7.0], [30.0, 40.0, 50.0, 60.0, 70.0])


def test_time_going_back_rebuilds_the_columns() -> None:
    """A replay that seeks back shows the earlier window, not the columns it had."""
    store = MetricStore()
    for i in range(200):
        store.append(float(i), {"x": float(i % 10)})
    cache = SparkCache()
    late = cache.sparkline("x", lambda s: store.points("x", s), end=199.0, window=60.0, width=30, gap=2.5)
    early = cache.sparkline(
        "x", lambda s: store.points("x", s, now=50.0), end=50.0, window=60.0, width=30, gap=2.5
    )
    ts, vals = store.window("x", 64.0, now=50.0)
    assert early == sparkline(ts, vals, end=50.0, window=60.0, width=30, gap=2.5)
    assert early != late and early.startswith(" ")  # nothing before t=0
    assert np.isfinite(vals).all()
