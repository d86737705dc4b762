"""The engine and the rules table as a whole: purity, ranking, classes, citations, windows."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from perftui.diagnosis import rules as rules_mod
from perftui.diagnosis.engine import INSUFFICIENT, diagnose, window_from_store
from perftui.diagnosis.model import VERDICT_CLASSES
from perftui.diagnosis.rules import RULES, SIGNALS
from perftui.diagnosis.window import DiagnosisWindow
from perftui.store.metric_store import MetricStore
from tests.diagnosis.windows import GiB, box, const, findings, host, verdict, window

# One window per class: every verdict is reachable.
CLASS_WINDOWS = {
    "compute-bound": box({}),
    "memory-bound": box({"dram_bw_util": 90}),
    "io-bound": (host(psi__io__some10=50), {}),
    "cpu-bound": (host(cpu__util=99, cpu__core_max__util=100), {}),
    "communication-bound": box({"sm_active": 25, "nvlink_tx_bytes_per_s": 30e9}),
    "network-bound": ({**host(), "net.tcp.out_segs_per_s": 5000.0, "net.tcp.retrans_per_s": 400.0}, {}),
    "throttled": box({"throttled": 1}),
    "idle": (host(cpu__util=2, cpu__core_max__util=3), {}),
    "none": (host(cpu__util=50, cpu__core_max__util=60), {}),
}


def test_every_class_is_reachable_and_well_formed() -> None:
    assert set(CLASS_WINDOWS) == set(VERDICT_CLASSES)
    for cls, (values, details) in CLASS_WINDOWS.items():
        fs = findings(values, details)
        assert fs[0].verdict == cls, (cls, fs[0])
        for f in fs:
            assert f.verdict in VERDICT_CLASSES
            assert f.confidence in ("high", "medium", "low")
            assert f.title and f.evidence and f.next_step and f.suggestions
            assert "{" not in f.next_step  # every template placeholder filled
            json.dumps(f.as_dict())


def test_rules_table_is_consistent() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for r in RULES:
        assert r.verdict in VERDICT_CLASSES
        assert r.signals and r.suggestions and r.next_step
        assert r.th, r.id


def test_every_threshold_cites_its_source() -> None:
    src = Path(rules_mod.__file__).read_text()
    lines = [ln for ln in src.splitlines() if re.match(r"^[A-Z_]+ = (Th\(|STALL)", ln)]
    assert len(lines) >= 20
    for ln in lines:
        assert re.search(r"# \[(DCGM|NSYS|TB|NCU|HTA|NVML|IOSTAT|MATHIS|PT)\]", ln), ln


def test_playbook_suggestions_per_class() -> None:
    from perftui.diagnosis import advice as A

    def has(group: tuple[str, ...], *words: str) -> None:
        text = " ".join(group).lower()
        for w in words:
            assert w.lower() in text, w

    has(A.COMPUTE, "quantiz", "INT8", "INT4", "prun", "distill", "fus", "faster GPU")
    has(A.MEMORY, "larger batch", "FlashAttention", "KV", "model parallelism")
    has(A.IO, "parallel", "prefetch", "NVMe", "workers", "cache")
    has(A.COMMUNICATION, "gradient", "NVLink", "overlap", "pipeline parallelism", "compress")
    has(A.CPU, "preprocessing to the GPU", "compiled tokenizers", "vectorized", "more cores")
    has(A.LAUNCH, "CUDA graphs")
    has(A.NETWORK, "closer", "batch requests", "compress", "pool")


def test_next_steps_are_concrete_commands() -> None:
    from perftui.diagnosis import advice as A

    assert A.NSYS.startswith("nsys profile ")
    assert A.NCU.startswith("ncu --set full ")
    assert "torch.profiler.profile(" in A.TORCH_PROFILER
    assert A.PYSPY.startswith("py-spy record --pid {pid}")
    assert A.PERF.startswith("perf stat ")
    assert A.IOSTAT.startswith("iostat -x 1")


def test_deterministic_and_pure() -> None:
    values, details = box({"sm_active": 31}, cpu__core_max__util=99)
    w = window(values, details)
    before = {k: v.copy() for k, v in w.series.items()}
    assert diagnose(w) == diagnose(w) == diagnose(window(values, details))
    assert all(np.array_equal(before[k], w.series[k]) for k in before)


def test_no_data_is_insufficient() -> None:
    fs = diagnose(DiagnosisWindow.from_values({"mem.used_pct": [50.0]}))
    assert len(fs) == 1 and fs[0].rule == INSUFFICIENT and fs[0].verdict == "none"


def test_ranked_primary_then_secondary() -> None:
    values, details = box({"throttled": 1}, cpu__util=95, cpu__core_max__util=99)
    fs = findings(values, details)
    assert [f.verdict for f in fs][:3] == ["throttled", "compute-bound", "cpu-bound"]
    assert all(a.score >= b.score for a, b in itertools.pairwise(fs))


def test_one_noisy_tick_does_not_decide() -> None:
    v = host(cpu__util=40, cpu__core_max__util=50)
    v["cpu.util"] = [40.0] * 9 + [100.0]
    v["cpu.core_max.util"] = [50.0] * 9 + [100.0]
    assert verdict(v) == "none"


def test_sticky_band_relaxes_the_held_verdict() -> None:
    v = host(cpu__util=86, cpu__core_max__util=88)
    assert verdict(v) == "none"
    assert verdict(v, held="cpu-bound") == "cpu-bound"  # 86 >= 90 - 5
    v = host(cpu__util=84, cpu__core_max__util=84.9)
    assert verdict(v, held="cpu-bound") == "none"  # below the band too


def test_missing_values_are_absent_not_zero() -> None:
    # NaN in a series is dropped, not read as 0 % (which would say idle)
    w = DiagnosisWindow.from_values({"cpu.util": [float("nan")] * 5 + [97.0] * 5, "cpu.cores": [4.0]})
    assert w.median("cpu.util") == 97.0
    assert diagnose(w)[0].verdict == "cpu-bound"


def test_window_helpers() -> None:
    w = window(
        {
            "gpu.3.util": 1.0,
            "gpu.0.util": 2.0,
            "gpu.0.sm_active": 1.0,
            "cpu.core.0.util": 1.0,
            "cpu.core.1.util": 1.0,
        }
    )
    assert w.gpu_indices() == [0, 3]
    assert w.gpu_tier(0) == "gpm" and w.gpu_tier(3) == "nvml"
    assert w.cores() == 2
    assert w.median("nope") is None and not w.has("nope")


def test_from_store_takes_the_window_and_only_rule_signals() -> None:
    store = MetricStore(capacity=200)
    for t in range(100):
        store.append(
            1000.0 + t,
            {
                "cpu.util": float(t),
                "gpu.0.util": 50.0,
                "gpu.0.ecc_corrected": 0.0,
                "mem.total_bytes": 8.0 * GiB,
            },
        )
    store.set_detail("gpu.0.tier", "nvml")
    store.set_detail("proc.tree", [{"pid": 1}])
    w = window_from_store(store, 10.0)
    assert list(w.values("cpu.util")) == [float(t) for t in range(90, 100)]
    assert w.end_ts == 1099.0 and w.seconds == 10.0
    assert "mem.total_bytes" in w.series  # mem.* is read by the memory-pressure rule
    assert w.detail("gpu.0.tier") == "nvml" and w.detail("proc.tree") is None
    assert all(
        any(re.fullmatch(p.replace(".", r"\.").replace("*", ".*"), k) for p in SIGNALS) for k in w.series
    )


def test_eight_gpu_60s_window_runs() -> None:
    values = {}
    for i in range(8):
        values.update({f"gpu.{i}.util": const(97, 600), f"gpu.{i}.sm_active": const(90, 600)})
    w = DiagnosisWindow.from_values(values, seconds=60.0)
    assert diagnose(w)[0].verdict == "compute-bound"


def test_batched_statistics_match_numpy() -> None:
    rng = np.random.default_rng(3)
    series = {f"k{i}": rng.normal(50, 20, size=n) for i, n in enumerate((1, 2, 7, 10, 10, 600, 601))}
    w = DiagnosisWindow.from_values(series)
    for k, arr in series.items():
        assert w.median(k) == pytest.approx(float(np.median(arr)))
        assert w.mean(k) == pytest.approx(float(arr.mean()))
        assert w.p95(k) == pytest.approx(float(np.percentile(arr, 95)))
        assert w.max(k) == float(arr.max()) and w.last(k) == float(arr[-1])
    assert list(w.values("k2")) == list(series["k2"])  # statistics never reorder the series


def test_held_verdict_keeps_its_rank_against_a_borderline_challenger() -> None:
    # DRAM at 82 %: memory-bound fires (>= 80) and outranks compute-bound when nothing is held ...
    values, details = box({"dram_bw_util": 82})
    assert verdict(values, details) == "memory-bound"
    # ... but with compute-bound shown, its relaxed band (< 85) and rank bonus keep it
    assert verdict(values, details, held="compute-bound") == "compute-bound"
    values, details = box({"dram_bw_util": 86})
    assert verdict(values, details, held="compute-bound") == "memory-bound"
