import threading

import numpy as np
import pytest

from perftui.core.types import SourceStatus
from perftui.store.metric_store import MetricStore, capacity_for, compute_stats
from perftui.store.ring import RingBuffer


def test_ring_wraparound_keeps_newest_in_order() -> None:
    ring = RingBuffer(5)
    for i in range(12):
        ring.append(float(i), float(i * 10))
    ts, vals = ring.all()
    assert ts.tolist() == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert vals.tolist() == [70.0, 80.0, 90.0, 100.0, 110.0]
    assert len(ring) == 5
    assert ring.latest() == (11.0, 110.0)


def test_ring_partial_fill_and_since() -> None:
    ring = RingBuffer(10)
    assert ring.latest() is None
    for i in range(4):
        ring.append(float(i), float(i))
    ts, _ = ring.since(1.5)
    assert ts.tolist() == [2.0, 3.0]
    ts, _ = ring.since(0.0, 2.0)
    assert ts.tolist() == [0.0, 1.0, 2.0]


def test_ring_grow_keeps_every_point_in_order_and_wraps_at_the_new_size() -> None:
    ring = RingBuffer(5)
    for i in range(8):  # wrapped: holds 3..7
        ring.append(float(i), float(i * 10))
    ring.grow(3)  # never shrinks
    assert ring.capacity == 5 and ring.all()[0].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]
    ring.grow(8)
    assert ring.capacity == 8 and len(ring) == 5
    assert ring.all()[0].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]
    for i in range(8, 12):
        ring.append(float(i), float(i * 10))
    ts, vals = ring.all()
    assert ts.tolist() == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    assert vals.tolist() == [t * 10 for t in ts.tolist()]
    assert ring.latest() == (11.0, 110.0)
    assert ring.since(9.5)[0].tolist() == [10.0, 11.0]
    assert ring.after(9.5, 10) == ([10.0, 11.0], [100.0, 110.0])


def test_store_capacity_for_the_window_and_ensure_capacity_only_grows() -> None:
    assert capacity_for(900, 1.0) >= 900 and capacity_for(900, 0.1) >= 9000
    assert capacity_for(900, 1.0) < 1000  # the window, not 2.5 hours of it
    store = MetricStore(capacity=4)
    for i in range(6):
        store.append(float(i), {"a": float(i)})
    store.ensure_capacity(10)
    store.ensure_capacity(2)
    assert store.capacity == 10
    for i in range(6, 12):
        store.append(float(i), {"a": float(i), "b": float(i)})
    assert store.series("a")[0].tolist() == [float(i) for i in range(2, 12)]
    assert len(store.series("b")[0]) == 6  # a key that appears later gets the new size too


def test_ring_rejects_zero_capacity() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_store_memory_is_flat_however_long_it_runs() -> None:
    store = MetricStore(capacity=100)
    for i in range(100):
        store.append(float(i), {"a": 1.0, "b": 2.0})
    before = store.nbytes()
    for i in range(100, 10_000):
        store.append(float(i), {"a": 1.0, "b": 2.0})
    assert store.nbytes() == before
    assert len(store.series("a")[0]) == 100


def test_store_skips_absent_values_and_never_fakes_zero() -> None:
    store = MetricStore()
    store.append(1.0, {"x": None, "y": float("nan"), "z": 3.0})
    assert "x" not in store and "y" not in store
    assert store.latest("x") is None
    assert store.latest("z") == 3.0


def test_window_is_relative_to_newest_timestamp() -> None:
    store = MetricStore()
    for i in range(20):
        store.append(float(i), {"k": float(i)})
    ts, _vals = store.window("k", 5.0)
    assert ts.tolist() == [15.0, 16.0, 17.0, 18.0, 19.0]
    ts, _ = store.window("k", 5.0, now=10.0)
    assert ts.tolist() == [6.0, 7.0, 8.0, 9.0, 10.0]
    assert store.window("missing", 5.0)[0].size == 0
    assert store.last_ts == 19.0


def test_stats_match_numpy_reference() -> None:
    rng = np.random.default_rng(42)
    data = rng.gamma(2.0, 3.0, size=500)
    store = MetricStore(capacity=1000)
    for i, v in enumerate(data):
        store.append(float(i), {"k": float(v)})
    st = store.stats("k", 1e9)
    assert st is not None
    assert st.count == 500
    assert st.mean == pytest.approx(float(np.mean(data)))
    for q, got in ((50, st.p50), (95, st.p95), (99, st.p99), (99.9, st.p999)):
        assert got == pytest.approx(float(np.percentile(data, q)))
    assert st.max == pytest.approx(float(data.max()))
    assert compute_stats(np.array([], dtype=np.float64)) is None
    # window stats only see the window
    st10 = store.stats("k", 10.0)
    assert st10 is not None and st10.count == 10
    assert st10.mean == pytest.approx(float(np.mean(data[-10:])))


def test_status_details_and_listeners() -> None:
    store = MetricStore()
    seen: list[tuple[float, dict[str, float]]] = []
    store.add_listener(lambda ts, vals: seen.append((ts, dict(vals))))
    store.set_status("psi", SourceStatus.unavailable("no /proc/pressure"))
    store.set_detail("gpu.0.info", {"name": "X"})
    store.append(5.0, {"a": 1.0, "b": None}, source="cpu")
    assert seen == [(5.0, {"a": 1.0})]
    assert store.status("psi") == SourceStatus(False, "no /proc/pressure")
    assert store.detail("gpu.0.info") == {"name": "X"}
    assert store.last_sample_ts("cpu") == 5.0
    assert store.keys() == ["a"]


def test_concurrent_writers_and_reader() -> None:
    store = MetricStore(capacity=256)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        i = 0
        while not stop.is_set() and i < 20_000:
            store.append(float(i), {f"{prefix}.v": float(i)}, source=prefix)
            i += 1

    def reader() -> None:
        try:
            while not stop.is_set():
                for key in store:
                    ts, vals = store.window(key, 50.0)
                    # a reader never sees a torn or unordered slice
                    assert ts.shape == vals.shape
                    assert np.all(np.diff(ts) >= 0) or ts.size == 0
                    store.stats(key, 50.0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("cpu", "gpu", "disk")]
    rt = threading.Thread(target=reader)
    rt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    rt.join()
    assert not errors
    for p in ("cpu", "gpu", "disk"):
        assert store.latest(f"{p}.v") == 19_999.0
        ts, _ = store.series(f"{p}.v")
        assert ts.tolist() == [float(x) for x in range(20_000 - 256, 20_000)]
