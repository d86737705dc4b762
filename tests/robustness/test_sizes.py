"""Big and small machines: 0, 1, 8 and 16 GPUs; 256 CPU cores; 64 NICs; 32 disks.

The host samplers run for real on generated /proc trees (diskstats with 32 disks, net/dev with 64
NICs, 256 per-core CPU time rows), the GPU sampler on the fake NVML; their ticks fill a store that
the dashboard renders at 200×50 (and 120×40). The tick cost of each sampler on these fixtures is
printed (`pytest -s tests/robustness/test_sizes.py`); no timing is asserted.
"""

from __future__ import annotations

import time
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perftui.samplers.base import Sampler
from perftui.samplers.cpu import CpuSampler
from perftui.samplers.disk import DiskSampler
from perftui.samplers.gpu import GpuSampler
from perftui.samplers.memory import MemorySampler
from perftui.samplers.net import NetSampler
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from perftui.ui.app import create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.fakes.fake_nvml import FakeNvml, GpuSpec, Scenario
from tests.ui.fakes import HOSTNAME, FakeClock

CpuTimes = namedtuple(
    "CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice"
)  # psutil's field names on Linux
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "proc"
SNMP = FIXTURES / "net" / "snmp"


class ProcTree:
    """A generated /proc with `disks` whole disks and `nics` NICs; `advance()` moves every counter."""

    def __init__(self, root: Path, *, disks: int, nics: int, cores: int) -> None:
        self.root, self.disks, self.nics, self.cores = root, disks, nics, cores
        self.tick = 0
        (root / "proc" / "net").mkdir(parents=True)
        (root / "sys").mkdir()
        (root / "proc" / "net" / "snmp").write_text(SNMP.read_text())
        for name in ("meminfo", "vmstat"):
            (root / "proc" / name).write_text((FIXTURES / name).read_text())
        (root / "proc" / "loadavg").write_text("3.10 2.50 1.75 4/900 12345\n")
        self.write()

    @property
    def proc(self) -> str:
        return str(self.root / "proc")

    @property
    def sys(self) -> str:
        return str(self.root / "sys")

    def write(self) -> None:
        t = self.tick
        lines = []
        for d in range(self.disks):
            name = f"nvme{d}n1"
            r, w = 1000 + t * (10 + d), 500 + t * (5 + d)
            fields = [r, 0, r * 8, r // 2, w, 0, w * 8, w // 2, 0, t * 100, t * 120, 0, 0, 0, 0, 0, 0]
            lines.append(f" 259 {d} {name} " + " ".join(map(str, fields)))
        (self.root / "proc" / "diskstats").write_text("\n".join(lines) + "\n")
        head = (
            "Inter-|   Receive                                                |  Transmit\n"
            " face |bytes    packets errs drop fifo frame compressed multicast|"
            "bytes    packets errs drop fifo colls carrier compressed\n"
            "    lo: 3245 30 0 0 0 0 0 0 3245 30 0 0 0 0 0 0\n"
        )
        rows = []
        for n in range(self.nics):
            rx, tx = 10**6 + t * 10**5 * (n + 1), 10**5 + t * 10**4 * (n + 1)
            rows.append(f"  eth{n}: {rx} {t * 100 + 1} 0 0 0 0 0 0 {tx} {t * 50 + 1} 0 0 0 0 0 0")
        (self.root / "proc" / "net" / "dev").write_text(head + "\n".join(rows) + "\n")

    def cpu_times(self) -> list[Any]:
        t = self.tick
        return [
            CpuTimes(100 + t * (c % 7), 0, 50 + t, 1000 + t * 3, t % 2, 0, 0, 0, 0, 0)
            for c in range(self.cores)
        ]

    def advance(self) -> None:
        self.tick += 1
        self.write()


def gpus(n: int) -> FakeNvml:
    return FakeNvml(Scenario(f"{n}gpu", [GpuSpec() for _ in range(n)]))


def build(tmp_path: Path, n_gpus: int) -> tuple[ProcTree, FakeNvml, dict[str, Sampler], FakeClock]:
    tree = ProcTree(tmp_path, disks=32, nics=64, cores=256)
    fake = gpus(n_gpus)
    clock = FakeClock(1_767_225_600.0)
    samplers: dict[str, Sampler] = {
        "cpu": CpuSampler(
            1.0, proc_root=tree.proc, cpu_times=tree.cpu_times, freq_mhz=lambda: 2400.0, clock=clock
        ),
        "memory": MemorySampler(1.0, proc_root=tree.proc),
        "disk": DiskSampler(1.0, proc_root=tree.proc, sys_root=tree.sys, clock=clock),
        "net": NetSampler(1.0, proc_root=tree.proc, sys_root=tree.sys, clock=clock),
        "gpu": GpuSampler(1.0, fake, clock=fake.now),
    }
    return tree, fake, samplers, clock


def run_ticks(runner: SamplerRunner, tree: ProcTree, fake: FakeNvml, clock: FakeClock, n: int) -> None:
    for _ in range(n):
        runner.sample_once()
        tree.advance()
        fake.advance()
        clock.advance(1.0)


async def render(tmp_path: Path, n_gpus: int, sizes: tuple[tuple[int, int], ...]) -> dict[str, list[str]]:
    """Tick the samplers, render at each size; the panels' lines at the first size."""
    tree, fake, samplers, clock = build(tmp_path, n_gpus)
    store = MetricStore()
    runner = SamplerRunner(store, samplers.values(), clock=clock)
    run_ticks(runner, tree, fake, clock, 4)
    assert len([k for k in store.keys("cpu.core.") if k.endswith(".util")]) == 256
    assert len({k.split(".")[1] for k in store.keys("disk.")}) == 32
    assert len({k.split(".")[1] for k in store.keys("net.") if k.endswith("rx_bytes_per_s")}) == 64
    app = create_app(
        store,
        runner,
        AppOptions(hostname=HOSTNAME),
        TestKnobs(live_timer=False, use_tracker=False, clock=clock),
    )
    lines: dict[str, list[str]] = {}
    async with app.run_test(size=sizes[0]) as pilot:
        app.dashboard.refresh_view()
        await pilot.pause()
        main = app.screen_stack[0]
        ids = {p.id for p in main.query(MetricPanel)}
        expected = {f"gpu-{i}" for i in range(n_gpus)}  # no GPU: no box, the header says why
        assert ids == {"cpu", "memory", "disk", "net"} | expected
        lines = {str(pid): main.query_one(f"#{pid}", MetricPanel).plain_lines() for pid in ids}
        assert all(len(line) <= sizes[0][0] for text in lines.values() for line in text)
        for size in sizes[1:]:
            await pilot.resize_terminal(*size)
            run_ticks(runner, tree, fake, clock, 1)
            app.dashboard.refresh_view()
            await pilot.pause()
        assert main.query_one("#body").display
    return lines


@pytest.mark.parametrize("n_gpus", [0, 1, 8, 16])
async def test_big_hosts_with_0_1_8_16_gpus_render_without_exceptions(tmp_path: Path, n_gpus: int) -> None:
    lines = await render(tmp_path, n_gpus, ((200, 50), (120, 40), (80, 24), (300, 90)))
    for i in range(n_gpus):
        # a full panel ("util" row) or, with many GPUs, the one-line summary ("GPU3  55 %")
        assert any("util" in line or line.startswith(f"GPU{i} ") for line in lines[f"gpu-{i}"]), i
    assert lines["disk"] and lines["net"]


@pytest.mark.parametrize("n_gpus", [0, 8])
async def test_big_hosts_every_panel_keeps_its_first_rows_at_200x50(tmp_path: Path, n_gpus: int) -> None:
    lines = await render(tmp_path, n_gpus, ((200, 50),))
    short = {pid: len(text) for pid, text in lines.items() if len(text) < 2}
    assert not short, short
    assert "busiest" in " ".join(lines["cpu"])  # the busiest of the 256 cores, said so


def _cost(sampler: Sampler, between: Callable[[], object], runs: int = 30) -> float:
    """Median seconds of `sampler.sample()`; `between` (moving the fixture counters) is not timed."""
    times = []
    for _ in range(runs):
        between()
        t = time.perf_counter()
        sampler.sample()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def test_tick_cost_on_the_big_fixtures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree, fake, samplers, _ = build(tmp_path, 16)

    def between() -> None:
        tree.advance()
        fake.advance()

    costs = {}
    for name, sampler in samplers.items():
        sampler.sample()  # first tick: baselines and one-off reads
        costs[name] = _cost(sampler, between)
    keys = {name: len(s.sample()) for name, s in samplers.items()}
    with capsys.disabled():
        print("\ntick cost, median of 30 (256 cores, 32 disks, 64 NICs, 16 fake GPUs):")
        for name, c in costs.items():
            print(f"  {name:6s} {c * 1e3:7.2f} ms  {keys[name]:5d} keys")
    assert keys["disk"] >= 32 * 6 and keys["net"] >= 64 * 2 and keys["cpu"] >= 256
