"""Host rules (a box without GPUs gets the same treatment): boundaries and verdicts."""

from __future__ import annotations

import pytest

from tests.diagnosis.windows import const, findings, hits, host, verdict

EPS = 0.01

# (rule, host overrides, key, value where it does NOT fire, value where it fires)
BOUNDARIES: list[tuple[str, dict[str, float], str, float, float]] = [
    ("host.cpu_saturated", {}, "cpu.util", 90 - EPS, 90),
    ("host.core_saturated", {}, "cpu.core_max.util", 90 - EPS, 90),
    ("host.core_saturated", {}, "proc.cpu_max_thread", 90 - EPS, 90),
    ("host.io_pressure", {}, "psi.io.some10", 5 - EPS, 5),  # [TB] moderate band starts at 5 %
    ("host.memory_pressure", {}, "psi.memory.some10", 5 - EPS, 5),
    ("host.memory_pressure", {}, "mem.swap_in_bytes_per_s", 1024 * 1024 - 1, 1024 * 1024),
    ("host.idle", {"cpu__util": 3, "cpu__core_max__util": 5}, "cpu.util", 10, 10 - EPS),
    ("host.idle", {"cpu__util": 3, "cpu__core_max__util": 5}, "psi.io.some10", 5, 5 - EPS),
]


@pytest.mark.parametrize(("rule", "h", "key", "off", "on"), BOUNDARIES)
def test_host_threshold_boundaries(rule: str, h: dict[str, float], key: str, off: float, on: float) -> None:
    values = host(**h)
    assert hits(rule, {**values, key: off}) == []
    assert len(hits(rule, {**values, key: on})) == 1


def test_io_bands_moderate_then_high() -> None:
    [low] = hits("host.io_pressure", host(psi__io__some10=20 - EPS))
    [high] = hits("host.io_pressure", host(psi__io__some10=20))
    assert low.confidence == "medium" and low.base is not None  # the moderate band ranks lower
    assert high.confidence == "high" and high.base is None
    assert high.title == "storage I/O-bound (I/O pressure 20 %)"


def test_disk_saturation_lifts_a_moderate_stall_to_io_bound() -> None:
    v = host(psi__io__some10=6)
    v["disk.vda.busy_pct"] = 90 - EPS
    [moderate] = hits("host.io_pressure", v)
    v["disk.vda.busy_pct"] = 90
    [high] = hits("host.io_pressure", v)
    assert moderate.base is not None and high.base is None


def test_memory_bands_moderate_then_high() -> None:
    [low] = hits("host.memory_pressure", host(psi__memory__some10=20 - EPS))
    [high] = hits("host.memory_pressure", host(psi__memory__some10=20))
    assert low.confidence == "medium" and high.confidence == "high"


def test_cpu_bound_host() -> None:
    f = findings(host(cpu__util=99, cpu__core_max__util=100, psi__cpu__some10=40))[0]
    assert (f.verdict, f.confidence, f.rule) == ("cpu-bound", "high", "host.cpu_saturated")
    assert f.evidence[0] == "CPU 99 % across 8 cores (busiest core 100 %) over the last 10 s"
    assert any("CPU pressure 40 %" in e for e in f.evidence)
    assert f.next_step.startswith("perf stat")  # no process table: no culprit to aim at
    # a box without GPUs gets no GPU advice; with no culprits known, Python advice may still fit
    assert not any("GPU" in s for s in f.suggestions)
    assert any("DataLoader workers" in s for s in f.suggestions)


def test_single_core_bottleneck_is_medium() -> None:
    f = findings(host(cpu__util=30, cpu__core_max__util=99))[0]
    assert (f.verdict, f.confidence, f.rule) == ("cpu-bound", "medium", "host.core_saturated")


def test_attached_process_on_one_core_is_high() -> None:
    f = findings(host(cpu__util=30, proc__cpu_max_thread=100))[0]
    assert (f.verdict, f.confidence, f.subject) == ("cpu-bound", "high", "proc")


def test_io_bound_host_with_psi_rate_preferred_over_avg10() -> None:
    v = host(psi__io__some10=3, cpu__iowait=30)
    v["psi.io.some_rate"] = const(70)
    v["disk.vda.busy_pct"] = const(99)
    v["disk.vda.await_s"] = const(0.0042)
    v["disk.vda.read_bytes_per_s"] = const(350e6)
    f = findings(v)[0]
    assert (f.verdict, f.confidence) == ("io-bound", "high")
    assert f.title == "storage I/O-bound (I/O pressure 70 %)"
    assert "disk vda busy 99 %, await 4.2 ms, read 350 MB/s" in f.evidence
    assert f.next_step.startswith("iostat -x 1")
    assert any("prefetch" in s.lower() for s in f.suggestions)


def test_io_bound_without_psi_uses_iowait_with_medium_confidence() -> None:
    v = host(cpu__iowait=25)
    del v["psi.io.some10"], v["psi.io.full10"]
    f = findings(v)[0]
    assert (f.verdict, f.confidence) == ("io-bound", "medium")
    assert "iowait 25 %" in f.title


def test_host_memory_pressure_is_stated_as_such() -> None:
    v = host(psi__memory__some10=35, psi__memory__full10=12)
    v["mem.swap_in_bytes_per_s"] = const(40e6)
    v["mem.major_faults_per_s"] = const(900)
    f = findings(v)[0]
    assert f.verdict == "memory-bound" and f.title.startswith("host memory pressure")
    text = " ".join(f.evidence)
    assert "memory pressure 35 %" in text and "all tasks 12 %" in text and "swapping 40.0 MB/s" in text
    assert f.next_step.startswith("vmstat 1")


def test_host_memory_pressure_kept_apart_from_gpu_memory_bound() -> None:
    from tests.diagnosis.windows import box

    values, details = box({"dram_bw_util": 90})
    values["psi.memory.some10"] = const(30)
    fs = findings(values, details)
    rules = [f.rule for f in fs]
    assert "gpu.memory_bound" in rules and "host.memory_pressure" in rules


def test_network_link_saturation_and_boundary() -> None:
    details = {"net.nics": [{"name": "eth0", "speed_bytes_per_s": 125e6, "operstate": "up"}]}
    v = host()
    v["net.eth0.rx_bytes_per_s"] = const(100e6 - 1)
    assert hits("host.network", v, details) == []
    v["net.eth0.rx_bytes_per_s"] = const(100e6)  # 80 % of 1 Gb/s
    [h] = hits("host.network", v, details)
    assert h.confidence == "high" and "eth0 receives 100 MB/s of a 125 MB/s link (80 %)" in h.evidence[0]
    f = findings(v, details)[0]
    assert f.verdict == "network-bound" and f.next_step.startswith("sar -n DEV,ETCP")
    assert any("Batch requests" in s for s in f.suggestions)


def test_network_retransmits_boundary_and_quiet_links() -> None:
    v = host()
    v["net.tcp.out_segs_per_s"] = const(1000)
    v["net.tcp.retrans_per_s"] = const(20 - EPS)
    assert hits("host.network", v) == []
    v["net.tcp.retrans_per_s"] = const(20)
    [h] = hits("host.network", v)
    assert h.confidence == "medium" and "TCP retransmits 2.0 % of segments sent" in h.evidence[0]
    v["net.tcp.out_segs_per_s"] = const(99)  # too few segments for a ratio to mean anything
    v["net.tcp.retrans_per_s"] = const(50)
    assert hits("host.network", v) == []


def test_idle_host() -> None:
    f = findings(host(cpu__util=3, cpu__core_max__util=6))[0]
    assert (f.verdict, f.confidence) == ("idle", "high")
    assert f.evidence[0] == "CPU 3.0 % across 8 cores, busiest core 6.0 % over the last 10 s"


def test_moderate_load_is_none() -> None:
    f = findings(host(cpu__util=45, cpu__core_max__util=70, psi__io__some10=2))[0]
    assert (f.verdict, f.rule) == ("none", "none")
    assert f.evidence[0] == "CPU 45 %, busiest core 70 % over the last 10 s"
    assert f.next_step.startswith("py-spy record")


def test_memory_pressure_outranks_cpu_and_io() -> None:
    # swapping makes everything stall: memory is the root cause
    v = host(cpu__util=95, psi__io__some10=40, psi__memory__some10=60)
    assert verdict(v) == "memory-bound"


def test_cpu_and_io_both_saturated_rank_by_stall_share() -> None:
    # both resources saturated: the one tasks wait on most (PSI) is primary, the other secondary
    io_worse = findings(host(cpu__util=99, cpu__core_max__util=100, psi__cpu__some10=30, psi__io__some10=80))
    assert [f.verdict for f in io_worse][:2] == ["io-bound", "cpu-bound"]
    cpu_worse = findings(host(cpu__util=99, cpu__core_max__util=100, psi__cpu__some10=90, psi__io__some10=40))
    assert [f.verdict for f in cpu_worse][:2] == ["cpu-bound", "io-bound"]
