"""DiskSampler: exact rates from fixture /proc/diskstats, device filtering, wraps, the real machine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from perftui.samplers.disk import DiskSampler, parse_diskstats

FIXTURE_DISKSTATS = Path(__file__).resolve().parents[2] / "fixtures" / "proc" / "diskstats"


def line(
    name: str,
    rd_ios: int = 0,
    rd_sec: int = 0,
    rd_ticks: int = 0,
    wr_ios: int = 0,
    wr_sec: int = 0,
    wr_ticks: int = 0,
    io_ticks: int = 0,
) -> str:
    return (
        f" 8 0 {name} {rd_ios} 0 {rd_sec} {rd_ticks} {wr_ios} 0 {wr_sec} {wr_ticks} 0 {io_ticks} 0"
        " 0 0 0 0 0 0\n"
    )


def whole_disks(sys_tree: Any, *names: str) -> None:
    for n in names:
        sys_tree.mkdir(f"block/{n}")


def make(proc: Any, sys_tree: Any, clock: Any) -> DiskSampler:
    return DiskSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree), clock=clock)


def test_exact_rates_busy_and_await(proc: Any, sys_tree: Any, clock: Any) -> None:
    whole_disks(sys_tree, "sda")
    proc.write("diskstats", line("sda", 100, 1000, 50, 200, 4000, 150, 1000))
    s = make(proc, sys_tree, clock)
    assert s.availability().available
    first = s.sample()
    assert set(first) == {
        f"disk.sda.{m}"
        for m in ("read_bytes_per_s", "write_bytes_per_s", "read_iops", "write_iops", "busy_pct", "await_s")
    }
    assert all(v is None for v in first.values()), "first tick: no rates"
    clock.advance(2.0)
    # +100 reads (2000 sectors, 300 ms), +300 writes (6000 sectors, 500 ms), +500 ms busy
    proc.write("diskstats", line("sda", 200, 3000, 350, 500, 10000, 650, 1500))
    v = s.sample()
    assert v["disk.sda.read_bytes_per_s"] == pytest.approx(2000 * 512 / 2)
    assert v["disk.sda.write_bytes_per_s"] == pytest.approx(6000 * 512 / 2)
    assert v["disk.sda.read_iops"] == pytest.approx(50.0)
    assert v["disk.sda.write_iops"] == pytest.approx(150.0)
    assert v["disk.sda.busy_pct"] == pytest.approx(25.0)
    assert v["disk.sda.await_s"] == pytest.approx(0.8 / 400)
    assert s.details()["disk.devices"] == [{"name": "sda", "kind": "disk"}]


def test_no_completed_io_means_no_await(proc: Any, sys_tree: Any, clock: Any) -> None:
    whole_disks(sys_tree, "sda")
    proc.write("diskstats", line("sda", 10, 80, 5, 0, 0, 0, 5))
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    v = s.sample()
    assert v["disk.sda.read_iops"] == 0.0 and v["disk.sda.busy_pct"] == 0.0
    assert v["disk.sda.await_s"] is None


def test_tick_counters_wrap_at_32_bits(proc: Any, sys_tree: Any, clock: Any) -> None:
    whole_disks(sys_tree, "sda")
    top = 2**32 - 200
    proc.write("diskstats", line("sda", 10, 80, top, 10, 80, 0, top))
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    proc.write("diskstats", line("sda", 20, 160, 100, 10, 80, 0, 300))  # +300 ms read, +500 ms busy
    v = s.sample()
    assert v["disk.sda.busy_pct"] == pytest.approx(50.0)
    assert v["disk.sda.await_s"] == pytest.approx(0.3 / 10)


def test_counter_reset_gives_no_value_that_tick(proc: Any, sys_tree: Any, clock: Any) -> None:
    whole_disks(sys_tree, "sda")
    proc.write("diskstats", line("sda", 1000, 8000, 100, 10, 80, 10, 100))
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    proc.write("diskstats", line("sda", 5, 40, 1, 10, 80, 10, 1))  # device re-added: counters restart
    v = s.sample()
    assert v["disk.sda.read_bytes_per_s"] is None and v["disk.sda.read_iops"] is None
    assert v["disk.sda.write_iops"] == 0.0
    clock.advance(1.0)
    proc.write("diskstats", line("sda", 15, 120, 2, 10, 80, 10, 2))
    assert s.sample()["disk.sda.read_iops"] == pytest.approx(10.0)


def test_partitions_loop_ram_and_unused_devices_are_skipped(proc: Any, sys_tree: Any) -> None:
    shutil.copy(FIXTURE_DISKSTATS, Path(str(proc)) / "diskstats")
    whole_disks(sys_tree, "loop0", "ram0", "nvme0n1", "sda", "dm-0", "md0", "zram0", "sr0")
    sys_tree.write("block/dm-0/dm/name", "vg0-root\n")
    sys_tree.write("block/nvme0n1/device/model", "Fast NVMe 2TB   \n")
    sys_tree.write("block/nvme0n1/queue/rotational", "0\n")
    s = DiskSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree))
    devices = {k.split(".")[1] for k in s.sample()}
    assert devices == {"nvme0n1", "sda", "dm-0", "md0"}
    info = {d["name"]: d for d in s.details()["disk.devices"]}
    assert info["nvme0n1"] == {
        "name": "nvme0n1",
        "kind": "disk",
        "model": "Fast NVMe 2TB",
        "rotational": False,
    }
    assert info["dm-0"]["dm_name"] == "vg0-root" and info["md0"]["kind"] == "md"


def test_partitions_found_through_class_block_without_sys_block(proc: Any, sys_tree: Any) -> None:
    proc.write("diskstats", line("vdb", 1, 8, 1) + line("vdb1", 1, 8, 1))
    sys_tree.write("class/block/vdb1/partition", "1\n")
    sys_tree.mkdir("class/block/vdb")
    s = DiskSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree))
    assert {k.split(".")[1] for k in s.sample()} == {"vdb"}


def test_device_that_starts_doing_io_appears(proc: Any, sys_tree: Any, clock: Any) -> None:
    whole_disks(sys_tree, "sdb")
    proc.write("diskstats", line("sdb"))
    s = make(proc, sys_tree, clock)
    assert s.sample() == {}
    clock.advance(1.0)
    proc.write("diskstats", line("sdb", 4, 32, 4))
    assert s.sample()["disk.sdb.read_iops"] is None  # first tick with traffic: baseline only
    clock.advance(1.0)
    proc.write("diskstats", line("sdb", 8, 64, 8))
    assert s.sample()["disk.sdb.read_iops"] == pytest.approx(4.0)


def test_parse_real_formats() -> None:
    rows = {d.name: d for d in parse_diskstats(FIXTURE_DISKSTATS.read_text())}
    assert rows["sda"].io_ticks == 11000  # an old kernel's 14-field line
    assert rows["nvme0n1"].wr_sectors == 77123456  # a 20-field line (discard and flush stats)


def test_missing_diskstats_is_unavailable(proc: Any, sys_tree: Any) -> None:
    st = DiskSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree)).availability()
    assert not st.available and "diskstats" in (st.reason or "")


def test_real_machine(tmp_path: Path) -> None:
    s = DiskSampler(0.1)
    assert s.availability().available
    s.sample()
    # write and sync a file so at least the root device has completed I/O
    f = tmp_path / "blob"
    with open(f, "wb") as fh:
        fh.write(b"x" * (1 << 20))
        fh.flush()
        os.fsync(fh.fileno())
    v = s.sample()
    names = {d["name"] for d in s.details()["disk.devices"]}
    assert names, "a machine with a root disk shows at least one device"
    assert not any(n.startswith(("loop", "ram")) for n in names)
    for key, value in v.items():
        if value is None:
            continue
        assert value >= 0, key
        if key.endswith("busy_pct"):
            assert value <= 100.0
