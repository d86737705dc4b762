"""The proctable sampler: its detail's fixed shape, its 2 s floor, GPU use per PID, the factory's
registration, n/a fields, and signal_process's checks, against real processes the tests start."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.samplers.factory import SamplerOptions, build_samplers
from perftui.samplers.proctable import ProcRow, ProcTable, signal_process, start_ticks
from perftui.samplers.proctable_sampler import DETAIL_KEY, MIN_PERIOD_S, PRIME_S, ProcTableSampler
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from tests.fakes.fake_nvml import FakeNvml, FakeProcess, GiB, GpuSpec, Scenario
from tests.polling import wait_for

SPIN = "while True:\n    pass\n"
SLEEP = "import time\ntime.sleep(60)\n"
FIELDS = {f.name for f in dataclasses.fields(ProcRow)}


@pytest.fixture
def spinner() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", SPIN, "--token=s3cr3t-value"])
    yield child
    child.kill()
    child.wait()


def test_first_pass_primes_then_rows_by_cpu_in_the_fixed_shape(spinner: subprocess.Popen[bytes]) -> None:
    s = ProcTableSampler(1.0)
    assert s.interval == PRIME_S  # the priming pass is followed soon by the first published one
    assert s.sample() == {} and s.details() == {}
    assert s.interval == MIN_PERIOD_S

    def published() -> bool:
        s.sample()
        rows = s.details()[DETAIL_KEY]["rows"]
        return any(r["pid"] == spinner.pid and r["cpu_pct"] > 20.0 for r in rows)

    assert wait_for(published, timeout=10.0, step=0.3)
    detail = s.details()[DETAIL_KEY]
    assert set(detail) == {"ts", "rows"} and abs(detail["ts"] - time.time()) < 5
    rows = detail["rows"]
    assert all(set(r) == FIELDS for r in rows)
    cpus = [r["cpu_pct"] for r in rows]
    assert cpus == sorted(cpus, reverse=True)
    mine = next(r for r in rows if r["pid"] == spinner.pid)
    assert mine["start_ticks"] == start_ticks(spinner.pid)
    assert "s3cr3t-value" not in mine["cmdline"] and mine["gpu_mem_bytes"] is None


def test_interval_never_below_two_seconds() -> None:
    s = ProcTableSampler(0.5)
    s.sample()
    assert s.interval == MIN_PERIOD_S
    runner = SamplerRunner(MetricStore(), [s])
    runner.set_interval(0.25)  # the dashboard's `-` sets every sampler's interval
    assert s.interval == MIN_PERIOD_S
    runner.set_interval(5.0)
    assert s.interval == 5.0


def test_factory_registers_it_with_gpu_memory_and_sm_per_pid(spinner: subprocess.Popen[bytes]) -> None:
    procs = [FakeProcess(pid=spinner.pid, used_bytes=3 * GiB, sm_util=70)]
    fake = FakeNvml(
        Scenario(
            gpus=[GpuSpec(processes=procs), GpuSpec(processes=[FakeProcess(pid=spinner.pid, used_bytes=GiB)])]
        )
    )
    assert not any(s.name == "proctable" for s in build_samplers(SamplerOptions(gpu=False)))
    samplers = build_samplers(SamplerOptions(interval=1.0, gpu=True, nvml=fake, proctable=True))
    assert [s.name for s in samplers].count("proctable") == 1
    store = MetricStore()
    runner = SamplerRunner(store, samplers)
    for _ in range(3):
        runner.sample_once()
        fake.advance()
    rows = store.detail(DETAIL_KEY)["rows"]
    mine = next(r for r in rows if r["pid"] == spinner.pid)
    assert mine["gpu_mem_bytes"] == 4 * GiB  # summed over both GPUs
    assert mine["sm_pct"] is not None and mine["sm_pct"] >= 70
    others = [r for r in rows if r["pid"] != spinner.pid]
    assert others and all(r["gpu_mem_bytes"] is None and r["sm_pct"] is None for r in others)
    runner.stop()


def _fake_proc(root: Path, pid: int, *, io: bool) -> None:
    """A /proc entry from this process's real files, without `io` when the kernel has none."""
    d = root / str(pid)
    d.mkdir(parents=True)
    for name in ("stat", "cmdline", "cgroup", "io"):
        if name == "io" and not io:
            continue
        (d / name).write_bytes(Path(f"/proc/self/{name}").read_bytes())


def test_missing_proc_fields_are_none_and_short_stat_is_skipped(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 100, io=True)
    _fake_proc(tmp_path, 200, io=False)
    _fake_proc(tmp_path, 300, io=True)
    stat = (tmp_path / "300" / "stat").read_text()
    (tmp_path / "300" / "stat").write_text(stat[: stat.rfind(")") + 12])  # cut short
    table = ProcTable(root=tmp_path)
    table.sample(0.0)
    rows = {r.pid: r for r in table.sample(1.0)}
    assert set(rows) == {100, 200}
    assert rows[100].disk_bps is not None and rows[200].disk_bps is None
    shutil.rmtree(tmp_path / "100")  # exits between passes: its row goes
    assert {r.pid for r in table.sample(2.0)} == {200}


def test_signal_checks_start_time_and_says_why_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", SLEEP])
    try:
        start = start_ticks(child.pid)
        assert start is not None
        reused = signal_process(child.pid, start + 1, signal.SIGTERM)
        assert reused is not None and "different process" in reused and "reused" in reused
        assert child.poll() is None  # not signalled
        assert signal_process(child.pid, start, signal.SIGTERM) is None
        assert child.wait(timeout=10) == -signal.SIGTERM
        gone = signal_process(child.pid, start, signal.SIGKILL)
        assert gone is not None and "exited" in gone and "SIGKILL" in gone
    finally:
        child.kill()
        child.wait()


REFUSE = """
import os, signal, sys
from perftui.samplers.proctable import signal_process
os.setgid(65534); os.setuid(65534)
print(signal_process(int(sys.argv[1]), int(sys.argv[2]), signal.SIGTERM))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start a process as another user")
def test_refused_signal_says_who_owns_the_process() -> None:
    target = subprocess.Popen([sys.executable, "-c", SLEEP])
    try:
        start = start_ticks(target.pid)
        out = subprocess.run(
            [sys.executable, "-c", REFUSE, str(target.pid), str(start)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if out.returncode != 0 and "Operation not permitted" in out.stderr:
            pytest.skip("setuid not permitted in this container")
        msg = out.stdout.strip()
        assert msg.startswith("SIGTERM refused for PID") and "not permitted" in msg and "owned by root" in msg
        assert target.poll() is None
    finally:
        target.kill()
        target.wait()


def test_priming_reads_only_the_counters_and_the_next_pass_has_rates(tmp_path: Path) -> None:
    """The first pass runs while the dashboard starts: it must not read command lines (most of its
    cost); the pass after it has every row, its identity and rates from the primed counters."""
    _fake_proc(tmp_path, 100, io=True)
    table = ProcTable(root=tmp_path)
    (tmp_path / "100" / "cmdline").unlink()  # a read now would cache "[name]" for its whole life
    table.prime(0.0)
    (tmp_path / "100" / "cmdline").write_bytes(b"python\0-c\0work\0")
    stat = (tmp_path / "100" / "stat").read_text()
    head, rest = stat[: stat.rfind(")") + 2], stat[stat.rfind(")") + 2 :].split()
    rest[11] = str(int(rest[11]) + 50)  # 50 more ticks of user time
    (tmp_path / "100" / "stat").write_text(head + " ".join(rest))
    (row,) = table.sample(1.0)
    assert row.cmdline == "python -c work"  # read at this pass, not at priming
    assert row.cpu_pct > 0 and row.disk_bps == 0.0


def test_an_unchanged_sleeper_keeps_its_row_and_a_change_makes_a_new_one(tmp_path: Path) -> None:
    """Most processes sleep through a pass: their row (and published dict) is reused, not rebuilt —
    but any change the list shows (RSS, state, CPU time, I/O) gives a new row."""
    _fake_proc(tmp_path, 100, io=True)
    sampler = ProcTableSampler(root=tmp_path, monotonic=iter(range(100)).__next__)
    sampler.sample()
    sampler.sample()
    first = sampler.details()["proctable"]["rows"][0]
    sampler.sample()
    assert sampler.details()["proctable"]["rows"][0] is first  # nothing moved
    stat = tmp_path / "100" / "stat"
    text = stat.read_text()
    head, rest = text[: text.rfind(")") + 2], text[text.rfind(")") + 2 :].split()
    rest[21] = str(int(rest[21]) + 10)  # RSS grew by 10 pages
    stat.write_text(head + " ".join(rest))
    sampler.sample()
    (row,) = sampler.details()["proctable"]["rows"]
    assert row is not first and row["rss_bytes"] == first["rss_bytes"] + 10 * os.sysconf("SC_PAGE_SIZE")
    rest[0] = "R"  # running, and one tick of CPU time
    rest[11] = str(int(rest[11]) + 1)
    stat.write_text(head + " ".join(rest))
    sampler.sample()
    (row2,) = sampler.details()["proctable"]["rows"]
    assert row2["state"] == "R" and row2["cpu_pct"] > 0
    sampler.sample()  # asleep again with no new CPU time: its CPU % goes back to 0
    assert sampler.details()["proctable"]["rows"][0]["cpu_pct"] == 0.0
