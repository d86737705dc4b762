"""MemBwSampler: resctrl MBM sums, the reasons when no counters exist, the real machine."""

from __future__ import annotations

from typing import Any

import pytest

from perftui.samplers.membw import MemBwSampler


def mbm(sys_tree: Any, group: str, domain: int, value: int | str) -> None:
    base = "fs/resctrl" + (f"/{group}" if group else "")
    sys_tree.write(f"{base}/mon_data/mon_L3_{domain:02d}/mbm_total_bytes", f"{value}\n")


def resctrl_info(sys_tree: Any) -> None:
    sys_tree.write("fs/resctrl/info/L3_MON/mon_features", "llc_occupancy\nmbm_total_bytes\n")
    sys_tree.write("fs/resctrl/tasks", "1\n")


def test_sums_domains_and_control_groups(sys_tree: Any, clock: Any) -> None:
    resctrl_info(sys_tree)
    mbm(sys_tree, "", 0, 1_000)
    mbm(sys_tree, "", 1, 2_000)
    mbm(sys_tree, "train", 0, 10_000)
    # a monitoring subgroup of the root is a subset of the root's count: not added again
    mbm(sys_tree, "mon_groups/sub", 0, 999_999)
    s = MemBwSampler(1.0, sys_root=str(sys_tree), clock=clock)
    assert s.availability().available
    assert s.sample() == {"mem.bw_bytes_per_s": None}
    clock.advance(0.5)
    mbm(sys_tree, "", 0, 1_000 + 1_000_000)
    mbm(sys_tree, "", 1, 2_000 + 2_000_000)
    mbm(sys_tree, "train", 0, 10_000 + 7_000_000)
    mbm(sys_tree, "mon_groups/sub", 0, 5)
    assert s.sample()["mem.bw_bytes_per_s"] == pytest.approx(10_000_000 / 0.5)
    assert s.details()["membw.domains"] == 3


def test_unreadable_counter_gives_no_value(sys_tree: Any, clock: Any) -> None:
    resctrl_info(sys_tree)
    mbm(sys_tree, "", 0, 1_000)
    s = MemBwSampler(1.0, sys_root=str(sys_tree), clock=clock)
    s.sample()
    clock.advance(1.0)
    mbm(sys_tree, "", 0, "Unavailable")
    assert s.sample() == {}
    clock.advance(1.0)
    mbm(sys_tree, "", 0, 5_000)
    assert s.sample() == {"mem.bw_bytes_per_s": None}  # new baseline after the gap
    clock.advance(1.0)
    mbm(sys_tree, "", 0, 6_000)
    assert s.sample()["mem.bw_bytes_per_s"] == pytest.approx(1_000.0)


def test_new_control_group_restarts_the_baseline(sys_tree: Any, clock: Any) -> None:
    resctrl_info(sys_tree)
    mbm(sys_tree, "", 0, 1_000)
    s = MemBwSampler(1.0, sys_root=str(sys_tree), clock=clock)
    s.sample()
    clock.advance(1.0)
    mbm(sys_tree, "", 0, 2_000)
    mbm(sys_tree, "g1", 0, 50_000_000)
    assert s.sample()["mem.bw_bytes_per_s"] is None  # not a jump of 50 MB
    clock.advance(1.0)
    mbm(sys_tree, "", 0, 3_000)
    mbm(sys_tree, "g1", 0, 50_001_000)
    assert s.sample()["mem.bw_bytes_per_s"] == pytest.approx(2_000.0)


def test_no_counters_is_unavailable_and_names_what_was_looked_for(sys_tree: Any) -> None:
    sys_tree.mkdir("bus/event_source/devices/software")
    st = MemBwSampler(1.0, sys_root=str(sys_tree)).availability()
    assert not st.available
    reason = st.reason or ""
    assert "resctrl" in reason and "uncore IMC" in reason and "AMD UMC" in reason
    assert "VM" in reason


def test_resctrl_mounted_without_mbm(sys_tree: Any) -> None:
    sys_tree.write("fs/resctrl/info/L3/cbm_mask", "fff\n")
    st = MemBwSampler(1.0, sys_root=str(sys_tree)).availability()
    assert not st.available and "mbm_total_bytes" in (st.reason or "")


def test_uncore_imc_present_but_not_read(sys_tree: Any) -> None:
    for i in range(6):
        sys_tree.mkdir(f"bus/event_source/devices/uncore_imc_{i}")
    st = MemBwSampler(1.0, sys_root=str(sys_tree)).availability()
    assert not st.available
    reason = st.reason or ""
    assert "uncore_imc_0" in reason and "does not read it yet" in reason and "perf_event_open" in reason


def test_real_machine_says_why_or_measures() -> None:
    s = MemBwSampler(0.1)
    st = s.availability()
    if not st.available:
        assert st.reason and "resctrl" in st.reason
        return
    s.sample()
    v = s.sample()
    bw = v.get("mem.bw_bytes_per_s")
    assert bw is None or bw >= 0
