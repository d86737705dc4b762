"""The incremental sparkline (SparkCache) draws exactly what a fresh computation draws."""

from __future__ import annotations

import random

import numpy as np

from perftui.store.metric_store import MetricStore
from perftui.ui.sparkline import SparkCache, sparkline


def _fresh(store: MetricStore, key: str, *, window: float, width: int, gap: float) -> str:
    end = store.last_ts
    assert end is not None
    ts, vals = store.window(key, window + 2 * window / width)
    return sparkline(ts, vals, end=end, window=window, width=width, gap=gap)


def test_incremental_frames_match_a_fresh_computation() -> None:
    rng = random.Random(7)
    store = MetricStore()
    cache = SparkCache()
    t = 1_000.0
    window, width = 60.0, 37
    frames = 0
    for step in range(600):
        t += rng.choice([0.25, 0.5, 1.0, 1.0, 1.0, 3.7, 12.0])  # jitter, pauses, a stopped source
        value = float("nan") if rng.random() < 0.05 else rng.uniform(0, 100)
        store.append(t, {"x": value, "y": rng.uniform(0, 5)})
        if rng.random() < 0.7:
            if step % 150 == 149:  # the window or the width changes now and then
                window = rng.choice([60.0, 300.0, 900.0])
                width = rng.choice([12, 37, 80])
            got = cache.sparkline(
                "x", lambda s: store.window("x", s), end=t, window=window, width=width, gap=2.5
            )
            assert got == _fresh(store, "x", window=window, width=width, gap=2.5), step
            frames += 1
    assert frames > 300


def test_time_going_back_rebuilds_the_columns() -> None:
    """A replay that seeks back shows the earlier window, not the columns it had."""
    store = MetricStore()
    for i in range(200):
        store.append(float(i), {"x": float(i % 10)})
    cache = SparkCache()
    late = cache.sparkline("x", lambda s: store.window("x", s), end=199.0, window=60.0, width=30, gap=2.5)
    early = cache.sparkline(
        "x", lambda s: store.window("x", s, now=50.0), end=50.0, window=60.0, width=30, gap=2.5
    )
    ts, vals = store.window("x", 64.0, now=50.0)
    assert early == sparkline(ts, vals, end=50.0, window=60.0, width=30, gap=2.5)
    assert early != late and early.startswith(" ")  # nothing before t=0
    assert np.isfinite(vals).all()
