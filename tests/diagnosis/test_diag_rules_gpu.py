"""GPU rules: each fires on its synthetic window, and each threshold is checked just below / just above."""

from __future__ import annotations

from typing import Any

import pytest

from perftui.diagnosis.signals import NVML_ONLY_NOTE
from tests.diagnosis.windows import GiB, box, findings, hits

EPS = 0.01


def _box(
    gpu_over: dict[str, float], tier: str = "gpm", **host_over: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    return box(gpu_over, tier, **host_over)


# (rule, gpu overrides, host overrides, key changed, value where it does NOT fire, value where it fires)
BOUNDARIES: list[tuple[str, dict[str, float], dict[str, float], str, float, float]] = [
    # launch-bound: [DCGM] SM active < 50 and under half the utilisation, kernels resident >= 10 % of
    # the time, a core >= 90, PCIe under 3 GB/s (else the copies explain it)
    (
        "gpu.launch_bound",
        {"sm_active": 31, "util": 100},
        {"cpu__core_max__util": 99},
        "gpu.0.sm_active",
        50,
        50 - EPS,
    ),
    ("gpu.launch_bound", {"sm_active": 31}, {"cpu__core_max__util": 99}, "gpu.0.sm_active", 48.5, 48.5 - EPS),
    ("gpu.launch_bound", {"sm_active": 3}, {"cpu__core_max__util": 99}, "gpu.0.util", 10 - EPS, 10),
    ("gpu.launch_bound", {"sm_active": 31}, {"cpu__core_max__util": 99}, "cpu.core_max.util", 90 - EPS, 90),
    (
        "gpu.launch_bound",
        {"sm_active": 3, "util": 30},
        {"cpu__core_max__util": 99},
        "gpu.0.pcie_rx_bytes_per_s",
        3e9,
        3e9 - 1,
    ),
    # starved by the CPU: [NSYS] utilisation < 50 while a core is saturated
    (
        "gpu.starved_cpu",
        {"util": 30, "sm_active": 20},
        {"cpu__core_max__util": 99},
        "gpu.0.util",
        50,
        50 - EPS,
    ),
    (
        "gpu.starved_cpu",
        {"util": 30, "sm_active": 20},
        {"cpu__core_max__util": 99},
        "cpu.core_max.util",
        90 - EPS,
        90,
    ),
    ("gpu.starved_cpu", {"util": 30, "sm_active": 20}, {"cpu__core_max__util": 50}, "cpu.util", 90 - EPS, 90),
    # starved by storage: [TB] 20 % of time stalled
    ("gpu.starved_io", {"util": 30, "sm_active": 20}, {}, "psi.io.some10", 20 - EPS, 20),
    # interconnect: NVLink >= 10 GB/s with SM active < 50 and utilisation >= 80
    (
        "gpu.interconnect",
        {"sm_active": 30, "nvlink_rx_bytes_per_s": 6e9},
        {},
        "gpu.0.nvlink_tx_bytes_per_s",
        4e9 - 1,
        4e9,
    ),
    (
        "gpu.interconnect",
        {"sm_active": 30, "nvlink_rx_bytes_per_s": 6e9, "nvlink_tx_bytes_per_s": 6e9},
        {},
        "gpu.0.sm_active",
        50,
        50 - EPS,
    ),
    # PCIe copies while starved: >= 3 GB/s tx + rx
    (
        "gpu.pcie_copies",
        {"util": 30, "sm_active": 20, "pcie_rx_bytes_per_s": 1e9},
        {},
        "gpu.0.pcie_tx_bytes_per_s",
        2e9 - 1,
        2e9,
    ),
    # throttled in at least half the window while utilisation >= 50
    ("gpu.throttled", {}, {}, "gpu.0.throttled", 0.4, 0.5),
    ("gpu.throttled", {"throttled": 1}, {}, "gpu.0.util", 50 - EPS, 50),
    # memory-bound: [DCGM] DRAM active >= 80 (pipes kept above DRAM so the 'leaning' band stays out)
    ("gpu.memory_bound", {"tensor_active": 95}, {}, "gpu.0.dram_bw_util", 80 - EPS, 80),
    # leaning memory-bound: [NCU] DRAM >= 60 and above the pipes
    ("gpu.memory_bound", {"tensor_active": 30, "sm_active": 70}, {}, "gpu.0.dram_bw_util", 60 - EPS, 60),
    # compute-bound: [DCGM] SM active >= 80, [NCU] a pipe >= 60, DRAM < 80
    ("gpu.compute_bound", {}, {}, "gpu.0.sm_active", 80 - EPS, 80),
    ("gpu.compute_bound", {}, {}, "gpu.0.tensor_active", 60 - EPS, 60),
    ("gpu.compute_bound", {}, {}, "gpu.0.dram_bw_util", 80, 80 - EPS),
    # latency-bound: [NCU] pipes and DRAM both < 60 while SMs are busy
    ("gpu.latency_bound", {"tensor_active": 30, "dram_bw_util": 30}, {}, "gpu.0.tensor_active", 60, 60 - EPS),
    ("gpu.latency_bound", {"tensor_active": 30, "dram_bw_util": 30}, {}, "gpu.0.dram_bw_util", 60, 60 - EPS),
    # idle while holding memory: P95 utilisation < 5 and >= 1 GiB allocated
    ("gpu.idle_holding", {"util": 0, "sm_active": 0}, {}, "gpu.0.util", 5, 5 - EPS),
    ("gpu.idle_holding", {"util": 0, "sm_active": 0}, {}, "gpu.0.mem_used_bytes", GiB - 1, GiB),
]


@pytest.mark.parametrize(("rule", "g", "h", "key", "off", "on"), BOUNDARIES)
def test_gpu_threshold_boundaries(
    rule: str, g: dict[str, float], h: dict[str, float], key: str, off: float, on: float
) -> None:
    values, details = _box(g, "gpm", **h)
    assert hits(rule, {**values, key: off}, details) == []
    fired = hits(rule, {**values, key: on}, details)
    assert len(fired) == 1 and fired[0].subject == "gpu.0"


def test_launch_bound_evidence_has_the_numbers_and_ranks_first() -> None:
    values, details = _box({"sm_active": 31}, cpu__core_max__util=99, cpu__util=55)
    fs = findings(values, details)
    assert fs[0].verdict == "cpu-bound" and fs[0].rule == "gpu.launch_bound"
    assert fs[0].confidence == "high"
    assert (
        fs[0].evidence[0] == "SM active 31 % while GPU utilisation 97 %; one core at 99 % over the last 10 s"
    )
    assert "nsys profile" in fs[0].next_step
    assert any("CUDA graphs" in s for s in fs[0].suggestions)


def test_launch_bound_uses_the_attached_process_thread() -> None:
    values, details = _box({"sm_active": 31}, proc__cpu_max_thread=100)
    fs = findings(values, details)
    assert fs[0].rule == "gpu.launch_bound"
    assert "attached process" in fs[0].evidence[0]


def test_compute_bound_gpm_high_confidence() -> None:
    values, details = _box({})
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence, f.rule) == ("compute-bound", "high", "gpu.compute_bound")
    assert "tensor pipe 75 %" in f.title
    assert f.next_step.startswith("ncu --set full")
    assert any("Quantize" in s for s in f.suggestions)


def test_memory_bound_gpm() -> None:
    values, details = _box({"dram_bw_util": 88, "sm_active": 85})
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence) == ("memory-bound", "high")
    assert "DRAM bandwidth 88 % of peak" in f.evidence[0]
    assert any("FlashAttention" in s for s in f.suggestions)


def test_leaning_memory_bound_is_medium() -> None:
    values, details = _box({"dram_bw_util": 70, "tensor_active": 30, "sm_active": 70})
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence) == ("memory-bound", "medium")


def test_latency_bound_is_compute_side_medium() -> None:
    values, details = _box({"tensor_active": 20, "dram_bw_util": 25, "sm_active": 90})
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence, f.rule) == ("compute-bound", "medium", "gpu.latency_bound")
    assert "latency" in f.title


def test_nvml_only_busy_is_low_confidence_and_says_so() -> None:
    values, details = _box({}, tier="nvml")
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence) == ("compute-bound", "low")
    assert NVML_ONLY_NOTE in f.evidence
    values["gpu.0.mem_util"] = 85.0
    assert findings(values, details)[0].verdict == "memory-bound"


def test_nvml_only_busy_with_saturated_core_mentions_launch() -> None:
    values, details = _box({}, tier="nvml", cpu__core_max__util=99)
    f = findings(values, details)[0]
    assert f.confidence == "low"
    assert any("kernel-launch-bound" in e for e in f.evidence)


def test_starved_cpu_confidence_by_tier() -> None:
    values, details = _box({"util": 30, "sm_active": 20}, cpu__core_max__util=99)
    assert findings(values, details)[0].confidence == "high"
    values, details = _box({"util": 30}, tier="nvml", cpu__core_max__util=99)
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence, f.rule) == ("cpu-bound", "medium", "gpu.starved_cpu")


def test_starved_io_beats_host_io_and_keeps_its_numbers() -> None:
    values, details = _box({"util": 30, "sm_active": 20}, psi__io__some10=45, cpu__iowait=30)
    values["disk.nvme0n1.busy_pct"] = 97.0
    values["disk.nvme0n1.read_bytes_per_s"] = 2.1e9
    fs = findings(values, details)
    assert fs[0].verdict == "io-bound" and fs[0].rule == "gpu.starved_io"
    text = " ".join(fs[0].evidence)
    assert "I/O pressure 45 %" in text and "disk nvme0n1 busy 97 %" in text and "2.1 GB/s" in text
    # the host I/O finding merged into it rather than repeating the verdict
    assert [f.verdict for f in fs].count("io-bound") == 1


def test_gpu_not_in_use_is_not_starved() -> None:
    values, details = _box({"util": 0, "sm_active": 0, "mem_used_bytes": 0.2 * GiB}, cpu__core_max__util=99)
    assert hits("gpu.starved_cpu", values, details) == []


def test_interconnect_nvml_only_is_low() -> None:
    values, details = _box({"nvlink_tx_bytes_per_s": 8e9, "nvlink_rx_bytes_per_s": 8e9}, tier="nvml")
    [h] = hits("gpu.interconnect", values, details)
    assert h.confidence == "low" and NVML_ONLY_NOTE in h.evidence


def test_interconnect_yields_to_launch_bound_when_a_core_is_saturated() -> None:
    values, details = _box(
        {"sm_active": 30, "nvlink_tx_bytes_per_s": 8e9, "nvlink_rx_bytes_per_s": 8e9}, cpu__core_max__util=99
    )
    assert hits("gpu.interconnect", values, details) == []
    assert findings(values, details)[0].rule == "gpu.launch_bound"


def test_communication_bound_primary() -> None:
    values, details = _box({"sm_active": 30, "nvlink_tx_bytes_per_s": 20e9, "nvlink_rx_bytes_per_s": 20e9})
    f = findings(values, details)[0]
    assert (f.verdict, f.confidence) == ("communication-bound", "high")
    assert "NVLink 40.0 GB/s" in f.evidence[0]
    assert "NCCL_DEBUG=INFO" in f.next_step


def test_a_power_cap_at_the_default_limit_is_the_normal_state_of_a_busy_gpu() -> None:
    """Measured on an H100 (bf16 matmul): 697 W of 700 W, clocks 1380 of 1980 MHz, power cap the only
    reason. That is compute-bound, said with the cap; "check cooling" would send the user astray."""
    values, details = _box({"throttled": 1, "power_w": 698, "power_limit_w": 700, "sm_clock_mhz": 1380})
    details["gpu.0.clock_events"] = ["power_cap"]
    for info in ({"max_sm_clock_mhz": 1980}, {"max_sm_clock_mhz": 1980, "default_power_limit_w": 700}):
        details["gpu.0.info"] = info
        assert hits("gpu.throttled", values, details) == []
        f = findings(values, details)[0]
        assert f.verdict == "compute-bound"
        assert "at its power cap (698 W of 700 W), SM clock 1380 MHz of 1980 MHz" in " ".join(f.evidence)


def test_throttled_outranks_compute_and_names_the_reason() -> None:
    """A power cap lowered below the board's default is a fault: throttled, with the numbers."""
    values, details = _box({"throttled": 1, "power_w": 698, "power_limit_w": 700, "sm_clock_mhz": 1410})
    details["gpu.0.clock_events"] = ["power_cap"]
    details["gpu.0.info"] = {"max_sm_clock_mhz": 1980, "default_power_limit_w": 1000}
    fs = findings(values, details)
    assert fs[0].verdict == "throttled" and fs[0].confidence == "high"
    assert "power cap" in fs[0].title
    text = " ".join(fs[0].evidence)
    assert "698 W of a 700 W cap" in text and "1410 MHz of 1980 MHz max" in text
    assert fs[1].verdict == "compute-bound"
    assert fs[0].next_step == "nvidia-smi -q -d PERFORMANCE,POWER,TEMPERATURE -i 0"


def test_throttle_reason_from_bitmask_when_no_detail() -> None:
    values, details = _box({"throttled": 1, "clock_event_reasons": 0x40 | 0x1})
    f = findings(values, details)[0]
    assert "HW thermal slowdown" in f.title and "idle" not in f.title.lower()


def test_idle_holding_memory() -> None:
    values, details = _box(
        {"util": 0, "sm_active": 0, "mem_used_bytes": 12 * GiB}, cpu__util=2, cpu__core_max__util=4
    )
    f = findings(values, details)[0]
    assert (f.verdict, f.rule) == ("idle", "gpu.idle_holding")
    assert "12.0 GiB" in f.title
    assert "nvidia-smi --query-compute-apps" in f.next_step


def test_idle_gpu_is_idle_only_when_the_host_is_quiet_too() -> None:
    values, details = box(
        {"util": 0, "sm_active": 0, "mem_used_bytes": 0.2 * GiB}, cpu__util=3, cpu__core_max__util=5
    )
    f = findings(values, details)[0]
    assert (f.verdict, f.rule) == ("idle", "host.idle") and "1 GPU idle" in f.evidence
    values["cpu.util"] = [45.0] * 10
    values["cpu.core_max.util"] = [60.0] * 10
    f = findings(values, details)[0]
    assert f.verdict == "none" and "GPU 0: utilisation 0.0 %, SM active 0.0 %" in f.evidence


def test_idle_gpu_with_busy_host_is_the_hosts_verdict() -> None:
    values, details = _box(
        {"util": 0, "sm_active": 0, "mem_used_bytes": 0.2 * GiB}, cpu__util=97, cpu__core_max__util=100
    )
    assert findings(values, details)[0].verdict == "cpu-bound"


def test_lost_gpu_is_skipped() -> None:
    values, details = _box({})
    details["gpu.0.tier"] = "lost"
    assert all(not f.rule.startswith("gpu.") for f in findings(values, details))


def test_eight_gpus_merge_into_one_finding() -> None:
    values: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for i in range(8):
        from tests.diagnosis.windows import gpu

        g, d = gpu(i, tensor_active=70.0 + i)
        values.update(g)
        details.update(d)
    fs = findings(values, details)
    assert fs[0].title.startswith("GPUs 0, 1, 2, 3, 4, 5, 6, 7 compute-bound")
    assert fs[0].evidence[0].startswith("GPU 7: ")  # the strongest first
    assert fs[0].evidence[-1] == "same on GPU 0, 1, 2, 3, 4, 5, 6"
    assert fs[0].subject == ",".join(f"gpu.{i}" for i in (7, 6, 5, 4, 3, 2, 1, 0))
    assert len([f for f in fs if f.rule == "gpu.compute_bound"]) == 1


def test_starved_by_cpu_suggests_the_torch_profiler() -> None:
    values, details = _box({"util": 30, "sm_active": 20}, "gpm", cpu__util=97, cpu__core_max__util=100)
    f = findings(values, details)[0]
    assert f.rule == "gpu.starved_cpu" and "torch.profiler.profile(" in f.next_step
    assert "GPU utilisation 30 % (no kernel running 70 % of the time), SM active 20 %" in f.evidence[0]


def test_several_saturated_cores_are_counted() -> None:
    values, details = _box({"sm_active": 31}, "gpm", cpu__core_max__util=99)
    for i, u in enumerate((99.0, 95.0, 91.0, 40.0, 10.0, 10.0, 5.0, 5.0)):
        values[f"cpu.core.{i}.util"] = u
    f = findings(values, details)[0]
    assert (
        f.evidence[0] == "SM active 31 % while GPU utilisation 97 %; 3 of 8 cores saturated (busiest 99 %)"
        " over the last 10 s"
    )
