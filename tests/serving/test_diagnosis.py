"""The serving rules: the server's numbers fused with the GPU verdict (synthetic windows)."""

from __future__ import annotations

from typing import Any

from tests.diagnosis.windows import findings, hits, host

S = "serve.vllm-8000."


def gpu(util: float, dram: float | None = None) -> dict[str, Any]:
    v: dict[str, Any] = {"gpu.0.util": util, "gpu.0.mem_used_bytes": 60e9}
    if dram is not None:
        v |= {"gpu.0.sm_active": 50.0, "gpu.0.dram_bw_util": dram}
    return v


def test_queueing_while_the_gpu_has_headroom() -> None:
    v = {**host(), **gpu(40), S + "waiting": 12, S + "queue.mean_s": 0.6, S + "e2e.mean_s": 1.0}
    (h,) = hits("serve.queue_headroom", v)
    assert "requests queue" in h.title and "60 %" in h.title
    assert hits("serve.queue_headroom", {**v, **gpu(95)}) == []  # a busy GPU: not the scheduler's limits
    assert hits("serve.queue_headroom", {**v, S + "queue.mean_s": 0.05}) == []  # queueing is small


def test_kv_cache_bound_needs_preemptions() -> None:
    v = {**host(), **gpu(90), S + "kv_cache_pct": 98.0, S + "preemptions_per_s": 2.0}
    (h,) = hits("serve.kv_bound", v)
    assert "KV-cache bound" in h.title
    assert hits("serve.kv_bound", {**v, S + "preemptions_per_s": 0.0}) == []
    assert hits("serve.kv_bound", {**v, S + "kv_cache_pct": 80.0}) == []


def test_prefill_bound_when_ttft_breaks_and_itl_is_fine() -> None:
    v = {**host(), **gpu(70), S + "ttft.budget_s": 0.2, S + "ttft.p99_s": 0.9, S + "itl.p99_s": 0.03}
    (h,) = hits("serve.prefill_bound", v)
    assert "prefill-bound" in h.title
    assert hits("serve.prefill_bound", {**v, S + "itl.p99_s": 0.4}) == []


def test_memory_bound_decode_needs_dram_near_peak() -> None:
    v = {**host(), **gpu(95, dram=88), S + "itl.p99_s": 0.3}
    (h,) = hits("serve.decode_memory_bound", v)
    assert "memory-bound decode" in h.title
    assert hits("serve.decode_memory_bound", {**v, **gpu(95, dram=40)}) == []


def test_broken_budget_names_the_hardware_cause() -> None:
    v = {
        **host(),
        **gpu(97),
        S + "ttft.budget_s": 0.2,
        S + "ttft.p99_s": 0.9,
        S + "itl.p99_s": 0.5,
        S + "queue.p99_s": 0.7,
        S + "ttft.over_budget_lo_pct": 12.0,
        S + "ttft.over_budget_hi_pct": 20.0,
    }
    (h,) = hits("serve.over_budget", v)
    assert "P99 TTFT 900" in h.title and "GPU 0 compute-busy" in h.title
    assert h.verdict == "compute-bound"
    assert any("12.0–20.0 %" in e for e in h.evidence)
    assert any("queue up to 700" in e for e in h.evidence)
    titles = [f.title for f in findings(v)]
    assert any("budget" in t for t in titles)
    assert hits("serve.over_budget", {**v, S + "ttft.p99_s": 0.1}) == []
