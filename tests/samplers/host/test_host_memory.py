"""MemorySampler: usage from fixture /proc/meminfo, swap and fault rates from /proc/vmstat,
and the real machine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psutil
import pytest

from perftui.samplers.memory import MemorySampler, parse_meminfo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "proc"
KiB, GiB = 1024, 1024**3


def meminfo(
    total_kb: int, avail_kb: int | None, cached_kb: int, srecl_kb: int, swap_t: int, swap_f: int
) -> str:
    lines = [f"MemTotal:       {total_kb} kB", "MemFree:          123456 kB"]
    if avail_kb is not None:
        lines.append(f"MemAvailable:   {avail_kb} kB")
    lines += [
        "Buffers:           1000 kB",
        f"Cached:         {cached_kb} kB",
        f"SwapTotal:      {swap_t} kB",
        f"SwapFree:       {swap_f} kB",
        f"SReclaimable:   {srecl_kb} kB",
        "HugePages_Total:       0",
    ]
    return "\n".join(lines) + "\n"


def vmstat(pswpin: int, pswpout: int, pgmajfault: int) -> str:
    return f"nr_free_pages 1\npswpin {pswpin}\npswpout {pswpout}\npgmajfault {pgmajfault}\npgminfault 5\n"


def make(proc: Any, clock: Any, page_size: int = 4096) -> MemorySampler:
    return MemorySampler(1.0, proc_root=str(proc), page_size=page_size, clock=clock)


def test_usage_and_exact_rates(proc: Any, clock: Any) -> None:
    proc.write("meminfo", meminfo(16 * 1024**2, 12 * 1024**2, 2 * 1024**2, 1024**2, 1024**2, 1024**2 - 100))
    proc.write("vmstat", vmstat(10, 0, 100))
    s = make(proc, clock)
    assert s.availability().available
    v = s.sample()
    assert v["mem.total_bytes"] == 16 * GiB
    assert v["mem.available_bytes"] == 12 * GiB
    assert v["mem.used_bytes"] == 4 * GiB  # total - available
    assert v["mem.used_pct"] == pytest.approx(25.0)
    assert v["mem.cached_bytes"] == 3 * GiB  # Cached + SReclaimable
    assert v["mem.swap_used_bytes"] == 100 * KiB
    assert v["mem.swap_in_bytes_per_s"] is None and v["mem.major_faults_per_s"] is None
    clock.advance(2.0)
    proc.write("vmstat", vmstat(30, 2, 130))
    v = s.sample()
    assert v["mem.swap_in_bytes_per_s"] == pytest.approx(20 * 4096 / 2)
    assert v["mem.swap_out_bytes_per_s"] == pytest.approx(2 * 4096 / 2)
    assert v["mem.major_faults_per_s"] == pytest.approx(15.0)


def test_swap_pages_use_the_kernel_page_size(proc: Any, clock: Any) -> None:
    proc.write("meminfo", meminfo(1024, 512, 0, 0, 0, 0))
    proc.write("vmstat", vmstat(0, 0, 0))
    s = make(proc, clock, page_size=65536)  # arm64 with 64 KiB pages
    s.sample()
    clock.advance(1.0)
    proc.write("vmstat", vmstat(3, 0, 0))
    assert s.sample()["mem.swap_in_bytes_per_s"] == pytest.approx(3 * 65536)


def test_counter_reset_gives_no_value_that_tick(proc: Any, clock: Any) -> None:
    proc.write("meminfo", meminfo(1024, 512, 0, 0, 0, 0))
    proc.write("vmstat", vmstat(0, 0, 1000))
    s = make(proc, clock)
    s.sample()
    clock.advance(1.0)
    proc.write("vmstat", vmstat(0, 0, 10))
    assert s.sample()["mem.major_faults_per_s"] is None
    clock.advance(1.0)
    proc.write("vmstat", vmstat(0, 0, 110))
    assert s.sample()["mem.major_faults_per_s"] == pytest.approx(100.0)


def test_missing_vmstat_and_memavailable_mean_absent_not_zero(proc: Any, clock: Any) -> None:
    proc.write("meminfo", meminfo(1024, None, 100, 0, 0, 0))  # a kernel before 3.14
    v = make(proc, clock).sample()
    assert v["mem.total_bytes"] == 1024 * KiB and v["mem.cached_bytes"] == 100 * KiB
    for key in ("mem.used_bytes", "mem.used_pct", "mem.available_bytes", "mem.swap_in_bytes_per_s"):
        assert key not in v


def test_missing_meminfo_is_unavailable(proc: Any) -> None:
    st = MemorySampler(1.0, proc_root=str(proc)).availability()
    assert not st.available and "meminfo" in (st.reason or "")


def test_real_format_fixture(proc: Any, clock: Any) -> None:
    shutil.copy(FIXTURES / "meminfo", Path(str(proc)) / "meminfo")
    shutil.copy(FIXTURES / "vmstat", Path(str(proc)) / "vmstat")
    mi = parse_meminfo((FIXTURES / "meminfo").read_text())
    assert mi["HugePages_Total"] == 0 and mi["MemTotal"] % 1024 == 0
    v = make(proc, clock).sample()
    assert v["mem.total_bytes"] == mi["MemTotal"]
    assert v["mem.used_bytes"] == mi["MemTotal"] - mi["MemAvailable"]


def test_real_machine_agrees_with_psutil() -> None:
    s = MemorySampler(0.1)
    assert s.availability().available
    s.sample()
    v = s.sample()
    vm = psutil.virtual_memory()
    assert v["mem.total_bytes"] == vm.total
    total = vm.total
    used = v["mem.used_bytes"]
    assert used is not None and 0 < used < total
    # psutil reads the same file a moment later: same definition, nearly the same value
    assert abs(used - (vm.total - vm.available)) < 0.05 * total
    cached = v["mem.cached_bytes"]
    assert cached is not None and 0 <= cached < total
    for key in ("mem.swap_in_bytes_per_s", "mem.swap_out_bytes_per_s", "mem.major_faults_per_s"):
        value = v[key]
        assert value is not None and value >= 0
