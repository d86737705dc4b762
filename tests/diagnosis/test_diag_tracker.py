"""The tracker: hysteresis in store time, the timeline of changes, no flapping on noisy input."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

import pytest

from perftui.diagnosis.engine import diagnose, window_from_store
from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.diagnosis.window import DiagnosisWindow
from perftui.store.metric_store import MetricStore
from tests.diagnosis.windows import box, host, window

CPU = window(host(cpu__util=99, cpu__core_max__util=100))
IO = window(host(psi__io__some10=60))
IDLE = window(host(cpu__util=2, cpu__core_max__util=3))
EMPTY = DiagnosisWindow.from_values({})


def test_contract_defaults() -> None:
    t = DiagnosisTracker()
    assert t.hold_s == 3.0
    assert isinstance(t.current, Diagnosis) and t.current.verdict == "none"
    assert t.timeline == [] and not t.started


def test_first_verdict_shows_at_once() -> None:
    t = DiagnosisTracker(hold_s=3.0)
    d = t.observe(100.0, CPU)
    assert d.verdict == "cpu-bound" and d.since == 100.0
    assert [(e.ts, e.verdict) for e in t.timeline] == [(100.0, "cpu-bound")]


def test_insufficient_data_never_becomes_a_verdict() -> None:
    t = DiagnosisTracker()
    d = t.observe(1.0, EMPTY)
    assert d.verdict == "none" and d.confidence == "low" and not t.started
    assert d.primary is not None and "Not enough samples" in d.primary.title
    assert t.timeline == []
    t.observe(2.0, CPU)
    assert t.current.verdict == "cpu-bound"
    t.observe(3.0, EMPTY)  # a gap in the data keeps the verdict
    assert t.current.verdict == "cpu-bound" and len(t.timeline) == 1


def test_change_needs_hold_seconds_of_store_time() -> None:
    t = DiagnosisTracker(hold_s=3.0)
    for ts in range(0, 10):
        t.observe(float(ts), CPU)
    for ts, expected in ((10, "cpu-bound"), (11, "cpu-bound"), (12, "cpu-bound"), (13, "io-bound")):
        d = t.observe(float(ts), IO)
        assert d.verdict == expected, ts
        if expected == "cpu-bound":
            assert t.pending == ("io-bound", 10.0)
            # the held verdict stays first, the candidate is listed after it
            assert d.findings[0].verdict == "cpu-bound" and d.findings[1].verdict == "io-bound"
    assert [(e.ts, e.verdict) for e in t.timeline] == [(0.0, "cpu-bound"), (10.0, "io-bound")]
    assert t.current.since == 10.0 and t.pending is None


def test_a_blip_does_not_change_the_verdict() -> None:
    t = DiagnosisTracker(hold_s=3.0)
    seq = [CPU] * 5 + [IO] * 2 + [CPU] * 5 + [IDLE, IO, IDLE, IO] + [CPU] * 3
    for ts, w in enumerate(seq):
        assert t.observe(float(ts), w).verdict == "cpu-bound"
    assert len(t.timeline) == 1


def test_warm_up_follows_the_engine_with_one_timeline_entry() -> None:
    t = DiagnosisTracker(hold_s=3.0)
    t.observe(10.0, IDLE)
    assert t.observe(11.0, CPU).verdict == "cpu-bound"  # within hold_s of the first data
    assert t.observe(12.9, IO).verdict == "io-bound"
    assert [(e.ts, e.verdict) for e in t.timeline] == [(10.0, "io-bound")]
    assert t.observe(13.0, CPU).verdict == "io-bound"  # warm-up over: hysteresis applies
    assert t.current.since == 10.0


def test_held_verdict_without_fresh_finding_keeps_the_last_one() -> None:
    t = DiagnosisTracker(hold_s=5.0)
    for ts in range(6):
        t.observe(float(ts), CPU)
    d = t.observe(6.0, IDLE)
    assert d.verdict == "cpu-bound" and d.findings[0].verdict == "cpu-bound"
    assert d.findings[1].verdict == "idle"


def test_hold_zero_switches_immediately() -> None:
    t = DiagnosisTracker(hold_s=0.0)
    t.observe(0.0, CPU)
    assert t.observe(1.0, IO).verdict == "io-bound"
    assert [e.verdict for e in t.timeline] == ["cpu-bound", "io-bound"]


def test_negative_hold_is_refused() -> None:
    with pytest.raises(ValueError):
        DiagnosisTracker(hold_s=-1)


def test_time_going_backwards_starts_over() -> None:
    t = DiagnosisTracker()
    t.observe(100.0, CPU)
    t.observe(101.0, CPU)
    d = t.observe(5.0, IO)
    assert d.verdict == "io-bound" and [e.ts for e in t.timeline] == [5.0]


def _store_run(
    make: Callable[[float], dict[str, float]], seconds: int, t0: float = 5000.0
) -> tuple[DiagnosisTracker, list[str]]:
    """Feed a real store tick by tick (1 Hz, store time only); also return the raw engine verdicts."""
    store = MetricStore(capacity=1000)
    tracker = DiagnosisTracker(hold_s=3.0)
    raw: list[str] = []
    for i in range(seconds):
        ts = t0 + i
        store.append(ts, make(ts))
        tracker.update(store, window_s=10.0)
        raw.append(diagnose(window_from_store(store, 10.0))[0].verdict)
    return tracker, raw


def _flips(seq: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(seq) if a != b)


def test_noisy_cpu_around_threshold_does_not_flap() -> None:
    rng = random.Random(7)

    def tick(ts: float) -> dict[str, float]:
        u = 90.0 + rng.uniform(-6.0, 6.0)
        return {"cpu.util": u, "cpu.core_max.util": u, "cpu.cores": 8.0, "psi.io.some10": 0.5}

    tracker, raw = _store_run(tick, 300)
    assert _flips(raw) >= 6  # the input really does cross the line, over and over
    assert len(tracker.timeline) <= 2  # first verdict, at most one settled change
    assert tracker.current.verdict == "cpu-bound"


def test_noisy_dram_between_compute_and_memory_does_not_flap() -> None:
    rng = random.Random(11)
    g, _details = box({})

    base = {k: float(vals[0]) for k, vals in window(g).series.items()}

    def tick(ts: float) -> dict[str, float]:
        v = dict(base)
        v.update({"gpu.0.dram_bw_util": 80.0 + rng.uniform(-6.0, 6.0), "cpu.util": 20.0})
        return v

    tracker, raw = _store_run(tick, 300)
    assert _flips(raw) >= 6
    assert len(tracker.timeline) <= 2


def test_update_uses_store_time_not_the_wall_clock() -> None:
    store = MetricStore()
    t = DiagnosisTracker()
    assert t.update(store).verdict == "none"  # empty store
    for i in range(5):
        store.append(1_000.0 + i, {"cpu.util": 99.0, "cpu.core_max.util": 100.0})
    d = t.update(store, window_s=10.0)
    assert d.verdict == "cpu-bound" and d.since == 1_004.0
    assert abs(d.since - time.time()) > 1e6
    assert t.update(store) is d  # nothing new in the store: same answer, no work


def test_replay_gives_the_same_timeline_as_live() -> None:
    def run() -> list[tuple[float, str]]:
        store = MetricStore()
        t = DiagnosisTracker()
        for i in range(40):
            busy = 99.0 if 10 <= i < 25 else 5.0
            store.append(float(i), {"cpu.util": busy, "cpu.core_max.util": busy})
            t.update(store, 5.0)
        return [(e.ts, e.verdict) for e in t.timeline]

    first = run()
    assert first == run()
    assert [v for _, v in first] == ["idle", "cpu-bound", "idle"]
