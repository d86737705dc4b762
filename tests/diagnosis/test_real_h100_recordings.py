"""Real recordings made on an NVIDIA H100 (benchmarks/gpu_capture.py: `perftui record --pid` of a
labelled torch workload, 15 s at 0.5 s), with nvidia-smi's own readings taken alongside.

Each workload's ground truth is known by construction, so the verdict perftui gives on the real
counters is checked against it, and perftui's numbers against nvidia-smi's.
"""

from __future__ import annotations

import csv
import json
import statistics
from datetime import datetime, timezone
from pathlib import Path

import pytest

from perftui.diagnosis.engine import diagnose, window_from_store
from perftui.report.rediagnose import recompute, verdict_shares
from perftui.store.metric_store import MetricStore
from perftui.store.reader import Recording, load_into_store, open_recording

H100 = Path(__file__).resolve().parents[1] / "fixtures" / "gpu_h100"

# workload -> (verdict, rule of the primary finding, words its evidence must contain)
TRUTH = {
    "matmul_bf16": ("compute-bound", "gpu.compute_bound", ("tensor pipe 93 %", "at its power cap")),
    "d2d_copy": ("memory-bound", "gpu.memory_bound", ("DRAM bandwidth 89 % of peak",)),
    "tiny_kernels": ("cpu-bound", "gpu.launch_bound", ("SM active < 0.1 %", "one core at 100 %")),
    "h2d_pageable": ("communication-bound", "gpu.pcie_copies", ("GB/s (tx + rx)", "pageable")),
    "idle_10gib": ("idle", "gpu.idle_holding", ("10.5 GiB of 79.6 GiB",)),
    "starved_loader": ("cpu-bound", "gpu.starved_cpu", ("waits for the DataLoader",)),
}


def _rec(name: str) -> Recording:
    return open_recording(H100 / f"{name}.sqlite")


def _store_at_end(rec: Recording) -> MetricStore:
    return load_into_store(rec)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_verdict_on_real_h100_counters(name: str) -> None:
    verdict, rule, words = TRUTH[name]
    findings = diagnose(window_from_store(_store_at_end(_rec(name)), 10.0))
    top = findings[0]
    assert (top.verdict, top.rule, top.confidence) == (verdict, rule, "high"), [
        (f.verdict, f.rule) for f in findings
    ]
    text = top.title + " " + " ".join(top.evidence)
    for w in words:
        assert w in text, text


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_the_verdict_holds_over_the_whole_recording(name: str) -> None:
    """Replayed second by second as the live tracker would run: one verdict, no flapping."""
    rec = _rec(name)
    assert rec.start is not None and rec.end is not None
    again = recompute(rec, rec.start, rec.end, step_s=1.0)
    assert again is not None
    shares = verdict_shares(again.timeline, rec.start, rec.end)
    assert shares.get(TRUTH[name][0], 0.0) >= 0.85, shares


def test_starved_loader_also_names_the_dataloader_from_stacks() -> None:
    findings = diagnose(window_from_store(_store_at_end(_rec("starved_loader")), 10.0))
    assert "stack.dataloader" in [f.rule for f in findings[:3]]


def test_a_thread_spinning_in_cuda_sync_is_not_called_cpu_limited() -> None:
    """torch.cuda.synchronize() spin-waits: 100 % of a core that waits on the GPU, not host work."""
    for name in ("matmul_bf16", "d2d_copy"):
        rules = [f.rule for f in diagnose(window_from_store(_store_at_end(_rec(name)), 10.0))]
        assert "host.core_saturated" not in rules, (name, rules)


STACK_SHARES = {  # workload -> (category, minimum mean share %) seen by py-spy on the real process
    "matmul_bf16": ("cuda_sync", 80.0),
    "d2d_copy": ("cuda_sync", 90.0),
    "idle_10gib": ("idle", 95.0),
    "starved_loader": ("dataloader", 20.0),
}


@pytest.mark.parametrize("name", sorted(STACK_SHARES))
def test_stack_categories_on_real_torch_processes(name: str) -> None:
    category, least = STACK_SHARES[name]
    _, vals = _rec(name).series[f"stack.share.{category}"]
    assert float(vals.mean()) >= least


def _smi(name: str) -> dict[str, list[tuple[float, float]]]:
    """nvidia-smi's columns as (epoch seconds, value) series."""
    cols: dict[str, list[tuple[float, float]]] = {}
    with (H100 / f"{name}.smi.csv").open() as fh:
        rows = list(csv.reader(fh, skipinitialspace=True))
    head = rows[0]
    for row in rows[1:]:
        if len(row) != len(head):
            continue
        t = datetime.strptime(row[0], "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
        for h, v in zip(head[1:], row[1:], strict=True):
            try:
                cols.setdefault(h, []).append((t, float(v)))
            except ValueError:
                continue
    return cols


# perftui key -> (nvidia-smi column, scale to perftui's unit, tolerance: absolute or relative)
CROSS = {
    "gpu.0.util": ("utilization.gpu [%]", 1.0, ("abs", 5.0)),
    "gpu.0.power_w": ("power.draw [W]", 1.0, ("rel", 0.05)),
    "gpu.0.mem_used_bytes": ("memory.used [MiB]", 1024.0**2, ("rel", 0.02)),
    "gpu.0.sm_clock_mhz": ("clocks.current.sm [MHz]", 1.0, ("rel", 0.05)),
    "gpu.0.temp_c": ("temperature.gpu", 1.0, ("abs", 3.0)),
}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_perftui_reads_what_nvidia_smi_reads(name: str) -> None:
    rec, smi = _rec(name), _smi(name)
    assert rec.start is not None and rec.end is not None
    for key, (col, scale, (kind, tol)) in CROSS.items():
        ours = statistics.median(float(v) for v in rec.series[key][1])
        theirs = statistics.median(v * scale for t, v in smi[col] if rec.start + 1 <= t <= rec.end)
        if kind == "abs":
            assert abs(ours - theirs) <= tol, (key, ours, theirs)
        else:
            assert abs(ours - theirs) <= tol * max(abs(theirs), 1.0), (key, ours, theirs)


def test_every_gpm_metric_perftui_asks_for_exists_on_the_h100() -> None:
    from perftui.samplers.gpu_gpm import GPM_METRICS

    probe = json.loads((H100 / "gpm_probe.json").read_text())
    assert probe["isSupportedDevice"] == 1
    missing = [const for const, _, _ in GPM_METRICS if const not in probe["supported"]]
    assert missing == []
