"""The runner: own thread per sampler (or per thread group), no overlap, prompt stop, faults contained."""

import threading
import time

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Sampler, Values
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from tests.polling import wait_for


class CountingSampler(BaseSampler):
    def __init__(self, name: str, interval: float, work: float = 0.0) -> None:
        self.name = name
        self.interval = interval
        self.work = work
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def sample(self) -> Values:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.work)
        with self._lock:
            self.active -= 1
            self.calls += 1
        return {f"{self.name}.calls": float(self.calls)}


class FailingSampler(BaseSampler):
    name = "flaky"
    interval = 0.02

    def __init__(self) -> None:
        self.n = 0

    def sample(self) -> Values:
        self.n += 1
        if self.n <= 2:
            raise OSError("device went away")
        return {"flaky.ok": 1.0}


class UnavailableSampler(BaseSampler):
    name = "psi"

    def availability(self) -> SourceStatus:
        return SourceStatus.unavailable("no /proc/pressure")

    def sample(self) -> Values:
        raise AssertionError("an unavailable sampler must not be sampled")


class BlockingSampler(BaseSampler):
    name = "hang"
    interval = 0.02

    def __init__(self) -> None:
        self.release = threading.Event()

    def sample(self) -> Values:
        self.release.wait(5)
        return {}


def test_samplers_satisfy_protocol() -> None:
    assert isinstance(CountingSampler("a", 1.0), Sampler)


def test_each_sampler_runs_at_its_own_interval_without_overlap() -> None:
    store = MetricStore()
    fast = CountingSampler("fast", 0.02, work=0.005)
    slow = CountingSampler("slow", 0.5)
    runner = SamplerRunner(store, [fast, slow])
    runner.start()
    try:
        assert wait_for(lambda: fast.calls >= 10)
    finally:
        runner.stop()
    assert fast.max_active == 1
    assert slow.calls <= 2 < fast.calls
    assert store.latest("fast.calls") is not None


def test_stop_is_prompt_even_with_long_intervals() -> None:
    samplers = [CountingSampler("a", 30.0), CountingSampler("b", 30.0)]
    runner = SamplerRunner(MetricStore(), samplers)
    runner.start()
    assert wait_for(lambda: all(s.calls for s in samplers))  # both threads now wait out 30 s
    t0 = time.monotonic()
    runner.stop()
    assert time.monotonic() - t0 < 1.0
    assert not runner.running


def test_fault_sets_status_and_recovers() -> None:
    store = MetricStore()
    flaky = FailingSampler()
    runner = SamplerRunner(store, [flaky])
    runner.start()
    try:
        assert wait_for(lambda: store.latest("flaky.ok") == 1.0)
        assert wait_for(lambda: (st := store.status("flaky")) is not None and st.available)
    finally:
        runner.stop()


def test_fault_reason_is_visible() -> None:
    store = MetricStore()
    runner = SamplerRunner(store, [FailingSampler()])
    runner.sample_once()
    st = store.status("flaky")
    assert st is not None and not st.available
    assert "device went away" in (st.reason or "")


def test_unavailable_source_is_reported_and_not_sampled() -> None:
    store = MetricStore()
    runner = SamplerRunner(store, [UnavailableSampler()])
    runner.start()
    runner.stop()
    assert store.status("psi") == SourceStatus(False, "no /proc/pressure")


def test_a_blocked_sampler_does_not_stall_the_others() -> None:
    store = MetricStore()
    hang = BlockingSampler()
    ok = CountingSampler("ok", 0.02)
    runner = SamplerRunner(store, [hang, ok])
    runner.start()
    try:
        assert wait_for(lambda: ok.calls >= 5)
        assert store.last_sample_ts("hang") is None
    finally:
        hang.release.set()
        runner.stop()


CALL_ORDER: list[str] = []


class ThreadNoting(CountingSampler):
    """Notes which thread ran each call, and the order of calls across samplers."""

    def __init__(self, name: str, group: "str | None") -> None:
        super().__init__(name, 0.02)
        self.thread_group = group
        self.threads: set[int] = set()

    def sample(self) -> Values:
        self.threads.add(threading.get_ident())
        CALL_ORDER.append(self.name)
        return super().sample()


def test_a_thread_group_shares_one_thread_and_runs_in_order() -> None:
    CALL_ORDER.clear()
    a, b, c = ThreadNoting("a", "host"), ThreadNoting("b", "host"), ThreadNoting("c", "host")
    alone = ThreadNoting("alone", None)
    hang = BlockingSampler()  # its own thread: it stalls nothing else
    runner = SamplerRunner(MetricStore(), [a, b, hang, c, alone])
    runner.start()
    try:
        assert wait_for(lambda: min(a.calls, b.calls, c.calls, alone.calls) >= 5)
    finally:
        hang.release.set()
        runner.stop()
    assert a.threads == b.threads == c.threads and len(a.threads) == 1
    assert alone.threads.isdisjoint(a.threads)
    grouped = [n for n in CALL_ORDER if n != "alone"]
    assert grouped[:9] == ["a", "b", "c"] * 3
    assert max(s.max_active for s in (a, b, c)) == 1


def test_host_samplers_share_the_host_thread() -> None:
    from perftui.samplers.host import HOST_THREAD, host_samplers

    groups = {getattr(s, "thread_group", None) for s in host_samplers(1.0)}
    assert groups == {HOST_THREAD}


def test_set_interval_clamps_and_applies() -> None:
    a = CountingSampler("a", 1.0)
    runner = SamplerRunner(MetricStore(), [a])
    assert runner.set_interval(0.001) == 0.05
    assert a.interval == 0.05
    assert runner.set_interval(1e9) == 60.0


def test_rate_tracker_first_tick_reset_and_wrap() -> None:
    rt = RateTracker()
    assert rt.rate("k", 100.0, 0.0) is None  # first tick: no value
    assert rt.rate("k", 300.0, 2.0) == 100.0
    assert rt.rate("k", 50.0, 3.0) is None  # reset: no value, new baseline
    assert rt.rate("k", 150.0, 4.0) == 100.0
    assert rt.rate("k", 150.0, 4.0) is None  # no time elapsed
    w = 2.0**32
    assert rt.rate("w", w - 100, 0.0) is None
    assert rt.rate("w", 300.0, 1.0, wrap=w) == 400.0  # wrapped
    assert rt.rate("w", 10.0, 2.0, wrap=w) is None  # old value low in range: a reset, not a wrap
    assert rt.rate("s", 1.0, 0.0, scale=512) is None
    assert rt.rate("s", 3.0, 1.0, scale=512) == 1024.0
    rt.forget("s")
    assert rt.rate("s", 5.0, 2.0, scale=512) is None
