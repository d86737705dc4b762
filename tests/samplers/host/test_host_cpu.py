"""CpuSampler: exact percentages from known per-core time deltas, and the real machine."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil
import pytest

from perftui.samplers.cpu import CpuSampler
from perftui.samplers.cpu import CpuTimes as Times


class Feed:
    """Hands out one list of per-core times per call."""

    def __init__(self, *ticks: list[Times]) -> None:
        self.ticks = list(ticks)
        self.calls = 0

    def __call__(self) -> list[Times]:
        self.calls += 1
        return self.ticks.pop(0)


def sampler(feed: Feed, proc: Any, freq: float | None = 2400.0) -> CpuSampler:
    return CpuSampler(1.0, proc_root=str(proc), cpu_times=feed, freq_mhz=lambda: freq)


def second_tick(s: CpuSampler) -> dict[str, float | None]:
    s.sample()
    return s.sample()


def test_two_ticks_give_exact_percentages(proc: Any) -> None:
    t0 = [Times(user=100, system=50, idle=1000), Times(user=10, idle=2000, iowait=5)]
    t1 = [
        Times(user=150, nice=0, system=75, idle=1025),  # +50 user +25 system +25 idle -> 75 % busy
        Times(user=10, idle=2080, iowait=15, irq=4, softirq=2, steal=4),  # +80 idle +10 iowait +10 other
    ]
    s = sampler(Feed(t0, t1), proc)
    first = s.sample()
    assert first["cpu.cores"] == 2 and first["cpu.freq_mhz"] == 2400.0
    assert not any(k.endswith("util") for k in first), "first tick has nothing to compare with"
    v = s.sample()
    assert v["cpu.core.0.util"] == pytest.approx(75.0)
    assert v["cpu.core.1.util"] == pytest.approx(10.0)  # irq+softirq+steal busy, iowait idle
    assert v["cpu.core_max.util"] == pytest.approx(75.0)
    # all cores: 200 s of CPU time, 85 s busy
    assert v["cpu.util"] == pytest.approx(42.5)
    assert v["cpu.user"] == pytest.approx(25.0)
    assert v["cpu.system"] == pytest.approx(12.5)
    assert v["cpu.iowait"] == pytest.approx(5.0)
    assert v["cpu.irq"] == pytest.approx(3.0)
    assert v["cpu.steal"] == pytest.approx(2.0)
    assert "cpu.freq_mhz" not in v  # read every FREQ_PERIOD_S, not every tick


def test_guest_time_is_not_counted_twice(proc: Any) -> None:
    # Linux counts guest time inside `user` too: 40 s user of which 20 s guest, 60 s idle.
    t0 = [Times()]
    t1 = [Times(user=40, guest=20, idle=60)]
    v = second_tick(sampler(Feed(t0, t1), proc))
    assert v["cpu.util"] == pytest.approx(40.0)
    assert v["cpu.user"] == pytest.approx(40.0)


def test_core_count_change_skips_one_tick(proc: Any) -> None:
    a = [Times(user=1, idle=1), Times(user=1, idle=1)]
    b = [Times(user=2, idle=2)]
    c = [Times(user=4, idle=2)]
    s = sampler(Feed(a, b, c), proc)
    s.sample()
    v = s.sample()
    assert v["cpu.cores"] == 1 and "cpu.util" not in v
    v = s.sample()
    assert v["cpu.util"] == pytest.approx(100.0)


def test_counters_that_go_backwards_count_as_zero(proc: Any) -> None:
    # iowait can decrease on NO_HZ kernels; the other fields still give a value.
    t0 = [Times(user=10, idle=100, iowait=50)]
    t1 = [Times(user=20, idle=130, iowait=40)]
    v = second_tick(sampler(Feed(t0, t1), proc))
    assert v["cpu.util"] == pytest.approx(25.0)
    assert v["cpu.iowait"] == 0.0


def test_idle_core_without_progress_gives_no_value(proc: Any) -> None:
    same = [Times(user=5, idle=5)]
    v = second_tick(sampler(Feed(same, list(same)), proc))
    assert "cpu.util" not in v and "cpu.core.0.util" not in v


def test_load_averages_and_missing_frequency(proc: Any) -> None:
    proc.write("loadavg", "1.50 0.75 0.25 3/412 12345\n")
    v = sampler(Feed([Times()]), proc, freq=None).sample()
    assert (v["cpu.load1"], v["cpu.load5"], v["cpu.load15"]) == (1.5, 0.75, 0.25)
    assert v.get("cpu.freq_mhz") is None


def test_no_loadavg_file_means_no_load_keys(proc: Any) -> None:
    v = sampler(Feed([Times()]), proc).sample()
    assert not any(k.startswith("cpu.load") for k in v)


def test_model_from_cpuinfo(proc: Any) -> None:
    proc.write("cpuinfo", "processor\t: 0\nvendor_id\t: X\nmodel name\t: Test CPU 9000\n")
    s = sampler(Feed([Times()]), proc)
    s.sample()
    assert s.details()["cpu.model"] == "Test CPU 9000"


def test_unavailable_when_cpu_times_fail(proc: Any) -> None:
    def broken() -> list[Times]:
        raise OSError("no /proc/stat")

    st = CpuSampler(1.0, proc_root=str(proc), cpu_times=broken).availability()
    assert not st.available and "no /proc/stat" in (st.reason or "")


def test_real_machine_two_ticks_and_independent_instances() -> None:
    a, b = CpuSampler(0.1), CpuSampler(0.1)
    assert a.availability().available
    a.sample()
    b.sample()
    end = time.monotonic() + 0.3
    while time.monotonic() < end:  # some work so the counters advance
        sum(range(10000))
    va = a.sample()
    vb = b.sample()  # a's ticks must not have consumed b's baseline
    n = psutil.cpu_count() or os.cpu_count() or 0
    for v in (va, vb):
        assert v["cpu.cores"] == n
        assert 0.0 <= (v["cpu.util"] or 0) <= 100.0
        util, core_max = v["cpu.util"], v["cpu.core_max.util"]
        assert util is not None and util > 0
        assert core_max is not None and core_max >= util - 1e-9
        cores = [k for k in v if k.startswith("cpu.core.")]
        assert len(cores) <= n
        parts = sum(v[k] or 0 for k in ("cpu.user", "cpu.system", "cpu.irq", "cpu.steal"))
        assert parts <= 100.0 + 1e-6
        assert v["cpu.load1"] is not None and v["cpu.load1"] >= 0
    assert a.details()["cpu.model"]
