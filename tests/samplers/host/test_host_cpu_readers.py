"""The CPU sampler's own readers of /proc/stat and the core frequency: exact on fixture trees, and
the same figures as psutil (the library they replace on the start path) on the real machine."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from perftui.samplers.cpu import CpuSampler, CpuTimes, read_cpu_times, read_mean_freq_mhz
from tests.samplers.host.conftest import Tree

TCK = os.sysconf("SC_CLK_TCK")

STAT = (
    "cpu  900 10 300 9000 40 5 6 7 0 0\n"  # all cores: skipped
    "cpu0 {} 5 150 4500 20 2 3 4 8 1\n"
    "cpu1 400 5 150 4500 20 3 3 3 0 0\n"
    "intr 1234 0 0\n"
    "ctxt 99\n"
    "cpufreq_fake 1 2 3\n"  # not a core line
)


def test_stat_lines_become_seconds_per_core(proc: Tree) -> None:
    proc.write("stat", STAT.format(500))
    cores = read_cpu_times(str(proc))
    assert len(cores) == 2
    assert cores[0] == CpuTimes(*(v / TCK for v in (500, 5, 150, 4500, 20, 2, 3, 4, 8, 1)))
    assert cores[1].user == pytest.approx(400 / TCK) and cores[1].guest_nice == 0.0


def test_old_kernels_fewer_columns_read_as_zero(proc: Tree) -> None:
    proc.write("stat", "cpu  1 2 3 4\ncpu0 100 0 50 1000 7 1 1\n")  # 2.6.24: no steal/guest columns
    (core,) = read_cpu_times(str(proc))
    assert core.iowait == pytest.approx(7 / TCK) and core.steal == core.guest == core.guest_nice == 0.0


def test_missing_stat_makes_the_source_unavailable(proc: Tree) -> None:
    with pytest.raises(OSError):
        read_cpu_times(str(proc))
    st = CpuSampler(1.0, proc_root=str(proc)).availability()
    assert not st.available and "stat" in (st.reason or "")


def test_sampler_reads_its_proc_root_by_default(proc: Tree) -> None:
    proc.write("stat", STAT.format(500))
    s = CpuSampler(1.0, proc_root=str(proc), sys_root=str(proc), freq_mhz=lambda: None)
    assert s.availability().available
    s.sample()
    proc.write("stat", STAT.format(500 + 50 * TCK))
    # cpu0: +50 s user and nothing else moved -> 100 %; cpu1 did not move: no value
    v = s.sample()
    assert v["cpu.core.0.util"] == pytest.approx(100.0) and "cpu.core.1.util" not in v


def test_frequency_is_the_mean_of_the_cpufreq_policies(sys_tree: Tree, proc: Tree) -> None:
    sys_tree.write("devices/system/cpu/cpufreq/policy0/scaling_cur_freq", "2000000\n")
    sys_tree.write("devices/system/cpu/cpufreq/policy1/scaling_cur_freq", "3000000\n")
    sys_tree.write("devices/system/cpu/cpufreq/policy2/cpuinfo_cur_freq", "1000000\n")  # fallback file
    sys_tree.mkdir("devices/system/cpu/cpufreq/policy3")  # offline: no file, not counted
    sys_tree.write("devices/system/cpu/cpufreq/ondemand/up_threshold", "95\n")  # not a policy
    proc.write("cpuinfo", "cpu MHz\t\t: 9999.0\n")  # cpufreq wins where it exists
    assert read_mean_freq_mhz(str(proc), str(sys_tree)) == pytest.approx(2000.0)


def test_frequency_from_per_cpu_cpufreq_dirs(sys_tree: Tree, proc: Tree) -> None:
    sys_tree.write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000\n")
    sys_tree.write("devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "2500000\n")
    sys_tree.mkdir("devices/system/cpu/cpuidle")
    assert read_mean_freq_mhz(str(proc), str(sys_tree)) == pytest.approx(2000.0)


def test_frequency_from_cpuinfo_without_cpufreq(sys_tree: Tree, proc: Tree) -> None:
    sys_tree.mkdir("devices/system/cpu/cpu0")
    proc.write("cpuinfo", "processor\t: 0\ncpu MHz\t\t: 2400.5\nprocessor\t: 1\ncpu MHz\t\t: 2600.5\n")
    assert read_mean_freq_mhz(str(proc), str(sys_tree)) == pytest.approx(2500.5)


def test_no_frequency_anywhere_is_none(sys_tree: Tree, proc: Tree) -> None:
    assert read_mean_freq_mhz(str(proc), str(sys_tree)) is None
    proc.write("cpuinfo", "processor\t: 0\ncpu MHz\t\t: 0.000\n")  # some arm64 VMs print 0
    assert read_mean_freq_mhz(str(proc), str(sys_tree)) is None


def test_real_cpu_times_match_psutil() -> None:
    before = psutil.cpu_times(percpu=True)
    ours = read_cpu_times()
    after = psutil.cpu_times(percpu=True)
    assert len(ours) == len(before) == len(after) > 0
    slack = 1.0 / TCK / 2
    for b, o, a in zip(before, ours, after, strict=True):
        for name in CpuTimes._fields:
            if not hasattr(b, name):
                continue
            assert getattr(b, name) - slack <= getattr(o, name) <= getattr(a, name) + slack, name


def test_real_frequency_matches_psutil() -> None:
    theirs = psutil.cpu_freq(percpu=False)
    ours = read_mean_freq_mhz()
    if theirs is None or not theirs.current:
        assert ours is None
        return
    assert ours is not None
    # clocks move between the two reads; a unit slip (kHz for MHz) would be 1000x off
    assert 0.5 * theirs.current <= ours <= 2.0 * theirs.current


def test_real_sampler_gives_utilisation_from_proc_stat() -> None:
    s = CpuSampler(0.1)
    s.sample()
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        sum(range(10000))
    v = s.sample()
    assert v["cpu.cores"] == len(psutil.cpu_times(percpu=True))
    assert v["cpu.util"] is not None and 0.0 < v["cpu.util"] <= 100.0
