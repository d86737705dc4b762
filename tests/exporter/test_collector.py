"""The exporter's Collector over a store the real GPU sampler filled from the fake 8-GPU NVML."""

from __future__ import annotations

import re
import shutil

import pytest

from perftui.diagnosis.model import VERDICT_CLASSES, Diagnosis, Finding
from perftui.exporter.collector import StoreCollector
from perftui.exporter.dcgm import FIELDS, LABELS, MIB
from perftui.store.metric_store import MetricStore
from tests.exporter.helpers import gpu_store, promtool_problems, samples, scrape

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")


def _value(fam: list, **labels: str) -> float:  # type: ignore[type-arg]
    hits = [s.value for s in fam if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, (labels, fam)
    return float(hits[0])


def test_gpu_metrics_carry_units_host_and_gpu_labels() -> None:
    store = gpu_store()
    got = samples(scrape(StoreCollector(store, host="node7")))
    power = got["perftui_gpu_power_watts"]
    assert len(power) == 8
    assert _value(power, gpu="3") == pytest.approx(store.latest("gpu.3.power_w"))
    s = next(s for s in power if s.labels["gpu"] == "5")
    assert s.labels == {"host": "node7", "gpu": "5"}
    info = store.detail("gpu.5.info")
    facts = next(s for s in got["perftui_gpu_info"] if s.labels["gpu"] == "5")
    assert facts.value == 1.0 and len(got["perftui_gpu_info"]) == 8
    assert facts.labels == {
        "host": "node7",
        "gpu": "5",
        "uuid": info["uuid"],
        "model": info["name"],
        "pci_bus_id": info["pci_bus_id"],
        "tier": "gpm",  # the signal tier the diagnosis's confidence rests on
    }
    # percentages become ratios, MHz become hertz
    util = _value(got["perftui_gpu_util_ratio"], gpu="0")
    assert util == pytest.approx(store.latest("gpu.0.util") / 100) and 0 <= util <= 1
    assert _value(got["perftui_gpu_sm_clock_hertz"], gpu="0") == pytest.approx(
        store.latest("gpu.0.sm_clock_mhz") * 1e6
    )
    assert "DCGM_FI_DEV_GPU_UTIL" not in got  # only with --compat dcgm


def test_compat_dcgm_names_units_and_labels() -> None:
    store = gpu_store()
    got = samples(scrape(StoreCollector(store, host="node7", compat_dcgm=True)))
    for name in (
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_SM_CLOCK",
        "DCGM_FI_PROF_SM_ACTIVE",
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "DCGM_FI_PROF_PCIE_TX_BYTES",
        "DCGM_FI_PROF_PCIE_RX_BYTES",
        "DCGM_FI_PROF_NVLINK_TX_BYTES",
        "DCGM_FI_PROF_NVLINK_RX_BYTES",
    ):
        assert len(got[name]) == 8, name
        assert set(got[name][0].labels) == set(LABELS)
    s = next(s for s in got["DCGM_FI_DEV_GPU_TEMP"] if s.labels["gpu"] == "2")
    info = store.detail("gpu.2.info")
    assert s.labels == {
        "gpu": "2",
        "UUID": info["uuid"],
        "pci_bus_id": info["pci_bus_id"],
        "device": "nvidia2",
        "modelName": info["name"],
        "Hostname": "node7",
    }
    used, total = store.latest("gpu.1.mem_used_bytes"), store.latest("gpu.1.mem_total_bytes")
    assert _value(got["DCGM_FI_DEV_FB_USED"], gpu="1") == pytest.approx(used / MIB)
    assert _value(got["DCGM_FI_DEV_FB_FREE"], gpu="1") == pytest.approx((total - used) / MIB)
    for ratio in ("DCGM_FI_PROF_SM_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "DCGM_FI_PROF_DRAM_ACTIVE"):
        assert all(0.0 <= x.value <= 1.0 for x in got[ratio]), ratio
    assert _value(got["DCGM_FI_PROF_SM_ACTIVE"], gpu="0") == pytest.approx(
        store.latest("gpu.0.sm_active") / 100
    )
    pcie = store.latest("gpu.0.gpm_pcie_tx_bytes_per_s") or store.latest("gpu.0.pcie_tx_bytes_per_s")
    assert _value(got["DCGM_FI_PROF_PCIE_TX_BYTES"], gpu="0") == pytest.approx(pcie)
    assert {f.name for f in FIELDS} <= set(got) | {"DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_MEM_COPY_UTIL"}


def test_diagnosis_verdict_confidence_and_finding_scores() -> None:
    finding = Finding(
        verdict="memory-bound",
        title="GPU 0 memory-bound",
        confidence="high",
        score=0.8,
        rule="gpu_mem",
        subject="gpu.0",
    )
    diag = Diagnosis(verdict="memory-bound", confidence="high", findings=(finding,), since=1700000000.0)
    got = samples(scrape(StoreCollector(gpu_store(ticks=2), host="h", diagnosis=lambda: diag)))
    verdicts = {s.labels["verdict"]: s.value for s in got["perftui_diagnosis_verdict"]}
    assert set(verdicts) == set(VERDICT_CLASSES)
    assert [v for v, x in verdicts.items() if x == 1.0] == ["memory-bound"]
    assert _value(got["perftui_diagnosis_confidence"], confidence="high") == 1.0
    assert _value(got["perftui_diagnosis_confidence"], confidence="low") == 0.0
    assert _value(got["perftui_diagnosis_finding_score"], rule="gpu_mem", subject="gpu.0") == 0.8
    assert _value(got["perftui_diagnosis_verdict_since_timestamp_seconds"]) == 1700000000.0


def test_source_status_and_stale_after_interval_plus_grace() -> None:
    store = MetricStore(capacity=8)
    store.append(100.0, {"gpu.0.util": 50.0}, source="gpu")
    from perftui.core.types import SourceStatus

    store.set_status("gpu", SourceStatus.ok())
    store.set_status("membw", SourceStatus.unavailable("no counters"))
    now = [100.5]
    col = StoreCollector(store, host="h", intervals={"gpu": 0.5}, clock=lambda: now[0])
    got = samples(scrape(col))
    assert _value(got["perftui_source_stale"], source="gpu") == 0.0
    assert _value(got["perftui_source_up"], source="membw", reason="no counters") == 0.0
    now[0] = 101.6  # interval 0.5 s + 1 s grace passed with no sample: a hung GPU tick
    got = samples(scrape(col))
    assert _value(got["perftui_source_stale"], source="gpu") == 1.0
    assert _value(got["perftui_source_last_sample_age_seconds"], source="gpu") == pytest.approx(1.6)
    assert _value(got["perftui_gpu_util_ratio"], gpu="0") == 0.5  # the last value is still served


def test_serving_keys_are_exposed_generically() -> None:
    store = MetricStore(capacity=8)
    store.append(
        1.0,
        {
            "serve.vllm0.requests_per_s": 12.0,
            "serve.vllm0.kv_cache_pct": 40.0,
            "serve.vllm0.ttft.p99_s": 0.25,
            "serve.vllm0.ttft.p999_s": 0.5,
            "serve.vllm0.running": 3.0,
        },
        source="serve",
    )
    got = samples(scrape(StoreCollector(store, host="h")))
    assert _value(got["perftui_serve_requests_per_second"], server="vllm0") == 12.0
    assert _value(got["perftui_serve_kv_cache_ratio"], server="vllm0") == 0.4
    assert _value(got["perftui_serve_ttft_seconds"], server="vllm0", percentile="99") == 0.25
    assert _value(got["perftui_serve_ttft_seconds"], server="vllm0", percentile="99.9") == 0.5
    assert _value(got["perftui_serve_running"], server="vllm0") == 3.0


@needs_promtool
def test_promtool_accepts_the_native_output() -> None:
    diag = Diagnosis(verdict="idle", confidence="low")
    rc, out = promtool_problems(scrape(StoreCollector(gpu_store(), host="h", diagnosis=lambda: diag)))
    assert rc == 0, out


@needs_promtool
def test_promtool_on_dcgm_output_flags_only_dcgm_exporters_own_camelcase_label() -> None:
    _rc, out = promtool_problems(scrape(StoreCollector(gpu_store(), host="h", compat_dcgm=True)))
    problems = [line for line in out.splitlines() if line.strip()]
    # dcgm-exporter's own `modelName` label is camelCase: promtool lints the real one the same way;
    # nothing else (names, HELP, types, units) is flagged
    camel = re.compile(r"^DCGM_FI_[A-Z0-9_]+ label names should be written in 'snake_case' not 'camelCase'$")
    assert problems and all(camel.match(line) for line in problems), out
