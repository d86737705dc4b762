"""RingBuffer.since slices the ring's two runs: same answer as filtering the whole ordered ring."""

from __future__ import annotations

import numpy as np

from perftui.store.ring import RingBuffer


def test_since_matches_the_whole_ring_filtered_across_the_wrap() -> None:
    rng = np.random.default_rng(7)
    for cap in (1, 2, 5, 16):
        for appended in (0, 1, cap - 1, cap, cap + 1, 2 * cap + 3):
            ring = RingBuffer(cap)
            for i in range(appended):
                ring.append(float(i), float(i) * 10)
            all_ts, all_vals = ring.all()
            for _ in range(20):
                t0 = float(rng.uniform(-2, appended + 2))
                t1 = None if rng.random() < 0.3 else t0 + float(rng.uniform(0, cap + 2))
                ts, vals = ring.since(t0, t1)
                keep = (all_ts >= t0) & (True if t1 is None else all_ts <= t1)
                np.testing.assert_array_equal(ts, all_ts[keep])
                np.testing.assert_array_equal(vals, all_vals[keep])


def test_since_returns_copies() -> None:
    ring = RingBuffer(4)
    for i in range(6):
        ring.append(float(i), 1.0)
    ts, vals = ring.since(4.0)
    ring.append(6.0, 2.0)
    ring.append(7.0, 2.0)
    assert ts.tolist() == [4.0, 5.0] and vals.tolist() == [1.0, 1.0]


def test_points_are_since_with_an_open_start_as_plain_floats() -> None:
    """The dashboard's sparklines read `points` (no numpy): the same points `since` gives past t0."""
    rng = np.random.default_rng(11)
    for cap in (1, 3, 16):
        for appended in (0, 2, cap, cap + 5):
            ring = RingBuffer(cap)
            for i in range(appended):
                ring.append(float(i), float(i) * 3)
            for _ in range(20):
                t0 = float(rng.choice([rng.uniform(-2, appended + 2), float(rng.integers(0, appended + 1))]))
                t1 = None if rng.random() < 0.3 else t0 + float(rng.uniform(0, cap + 2))
                ts, vals = ring.since(t0, t1)
                keep = ts > t0
                times, values = ring.points(t0, t1)
                assert times == ts[keep].tolist() and values == vals[keep].tolist()
                assert all(type(t) is float for t in times + values)


def test_extend_keeps_the_newest_points_across_the_wrap() -> None:
    ring = RingBuffer(5)
    ring.append(0.0, 0.0)
    ring.append(1.0, 10.0)
    ring.extend(np.arange(2.0, 9.0), np.arange(20.0, 90.0, 10.0))  # 7 more into 3 free + wrap
    ts, vals = ring.all()
    assert ts.tolist() == [4.0, 5.0, 6.0, 7.0, 8.0] and vals.tolist() == [40.0, 50.0, 60.0, 70.0, 80.0]
    ring.extend([9.0, 10.0], [90.0, 100.0])  # plain sequences too
    assert ring.latest() == (10.0, 100.0) and len(ring) == 5
    assert ring.points(7.0) == ([8.0, 9.0, 10.0], [80.0, 90.0, 100.0])
    assert ring.nbytes == 2 * 5 * 8
