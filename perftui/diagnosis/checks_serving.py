"""Checks of the serving rules: an inference server's own numbers fused with the hardware verdict.

Each check reads `serve.<sid>.*` (the serving source) beside `gpu.*` and yields one Hit per server.
Thresholds and their sources are in SERVING_RULES below ([DCGM], [PT] as in rules.py; [VLLM]: vLLM's
optimization docs — preemption happens when the KV cache is full; [PLAYBOOK]: the P99 latency table).
"""

from __future__ import annotations

from perftui.core.slo import format_seconds
from perftui.diagnosis.model import Confidence, Verdict
from perftui.diagnosis.ruledef import Hit, Rule, Th, strength
from perftui.diagnosis.signals import GpuView, cpu_view, gpu_views, pct
from perftui.diagnosis.window import DiagnosisWindow

QUEUE_SHARE = Th(30.0, 5.0)  # [PT] queue time >= 30 % of end-to-end: waiting, not working, dominates
GPU_HEADROOM = Th(80.0, 5.0)  # [DCGM] below the 0.8 busy line the GPU has room for a bigger batch
KV_FULL = Th(95.0, 2.0)  # [VLLM] KV cache >= 95 % with preemptions: requests are evicted for space
PREEMPT = Th(0.01)  # [PT] any sustained preemption (per second, median over the window)
ITL_FINE = Th(0.1, 0.01)  # [PT] P99 ITL under 100 ms (10 tok/s, faster than reading) when no ITL budget
DRAM_NEAR_PEAK = Th(80.0, 5.0)  # [DCGM] DRAM active ~0.8 is the practical maximum
UTIL_BUSY = Th(80.0, 5.0)  # [DCGM] the 0.8 busy line

SERVING_SIGNALS = ("serve.*", "gpu.*", "cpu.util", "cpu.core_max.util", "cpu.cores")


def _sids(w: DiagnosisWindow, suffix: str) -> list[str]:
    return sorted({k[len("serve.") : -len(suffix)] for k in w.keys("serve.", suffix)})


def _live(w: DiagnosisWindow) -> list[GpuView]:
    return [g for g in gpu_views(w) if g.tier != "lost" and g.util is not None]


def hardware_phrase(w: DiagnosisWindow) -> tuple[str, Verdict | None]:
    """('GPU 0 memory-bound (DRAM 86 % of peak)', 'memory-bound') from the GPUs and host right now."""
    for g in _live(w):
        if DRAM_NEAR_PEAK.ge(g.dram):
            return f"{g.name} memory-bound (DRAM bandwidth {pct(g.dram)} of peak)", "memory-bound"
    for g in _live(w):
        if UTIL_BUSY.ge(g.util):
            return f"{g.name} compute-busy (utilisation {pct(g.util)})", "compute-bound"
    c = cpu_view(w)
    if UTIL_BUSY.ge(c.util):
        return f"host CPU busy ({pct(c.util)})", "cpu-bound"
    gpus = _live(w)
    if gpus:
        return f"{gpus[0].name} has headroom (utilisation {pct(gpus[0].util)})", None
    return "no GPU data", None


def _p99(w: DiagnosisWindow, sid: str, lat: str) -> float | None:
    return w.last(f"serve.{sid}.{lat}.p99_s")


def queue_headroom(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """Requests wait in the queue while the GPU has room: the scheduler's batch limits hold them."""
    hits = []
    gpus = _live(w)
    if not gpus or not all(r.th["headroom"].lt(g.util, sticky) for g in gpus):
        return []
    for sid in _sids(w, ".waiting"):
        waiting = w.median(f"serve.{sid}.waiting")
        q, e2e = w.last(f"serve.{sid}.queue.mean_s"), w.last(f"serve.{sid}.e2e.mean_s")
        share = 100.0 * q / e2e if q is not None and e2e else None
        if not (waiting is not None and waiting > 0 and r.th["queue"].ge(share, sticky)):
            continue
        assert share is not None
        hits.append(
            Hit(
                f"serve.{sid}",
                f"{sid}: requests queue ({waiting:.0f} waiting, {pct(share)} of latency), GPU has headroom",
                (
                    f"mean queue time {format_seconds(q or 0)} of {format_seconds(e2e or 0)} end-to-end",
                    "GPU utilisation " + ", ".join(pct(g.util) for g in gpus),
                    "the scheduler's limits (max_num_seqs, max_num_batched_tokens) admit too few",
                ),
                "medium",
                strength(share, r.th["queue"].value, 100.0),
            )
        )
    return hits


def kv_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    hits = []
    for sid in _sids(w, ".kv_cache_pct"):
        kv = w.median(f"serve.{sid}.kv_cache_pct")
        pre = w.median(f"serve.{sid}.preemptions_per_s")
        if not (r.th["kv"].ge(kv, sticky) and r.th["preempt"].ge(pre)):
            continue
        assert kv is not None and pre is not None
        hits.append(
            Hit(
                f"serve.{sid}",
                f"{sid}: KV-cache bound (KV cache {pct(kv)}, {pre:.2f} preemptions/s)",
                (f"KV cache in use {pct(kv)} (median)", f"{pre:.2f} requests preempted per second"),
                "high",
                strength(kv, r.th["kv"].value, 100.0),
            )
        )
    return hits


def prefill_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """TTFT over its budget while ITL is fine: the prompt's prefill, not decoding, is slow."""
    hits = []
    for sid in _sids(w, ".ttft.budget_s"):
        budget, ttft, itl = w.last(f"serve.{sid}.ttft.budget_s"), _p99(w, sid, "ttft"), _p99(w, sid, "itl")
        itl_limit = w.last(f"serve.{sid}.itl.budget_s") or r.th["itl"].value
        if budget is None or ttft is None or ttft <= budget or itl is None or itl > itl_limit:
            continue
        prompt, gen = w.median(f"serve.{sid}.prompt_tokens_per_s"), w.median(f"serve.{sid}.gen_tokens_per_s")
        ev = [
            f"P99 TTFT {format_seconds(ttft)} > {format_seconds(budget)} budget",
            f"P99 ITL {format_seconds(itl)} is fine",
        ]
        if prompt and gen:
            ev.append(f"{prompt / gen:.1f} prompt tokens per generated token")
        hits.append(
            Hit(
                f"serve.{sid}",
                f"{sid}: prefill-bound (TTFT over budget, decoding fine)",
                tuple(ev),
                "medium",
                strength(ttft, budget, 4 * budget),
            )
        )
    return hits


def decode_memory_bound(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    hits = []
    gpus = [g for g in _live(w) if r.th["dram"].ge(g.dram, sticky)]
    if not gpus:
        return []
    for sid in _sids(w, ".itl.p99_s"):
        itl = _p99(w, sid, "itl")
        limit = w.last(f"serve.{sid}.itl.budget_s") or r.th["itl"].value
        if itl is None or itl <= limit:
            continue
        g = gpus[0]
        hits.append(
            Hit(
                f"serve.{sid}",
                f"{sid}: memory-bound decode (P99 ITL {format_seconds(itl)}, {g.name} DRAM {pct(g.dram)})",
                (
                    f"P99 inter-token latency {format_seconds(itl)} > {format_seconds(limit)}",
                    f"{g.name} DRAM bandwidth {pct(g.dram)} of peak",
                ),
                "high" if g.gpm else "medium",
                strength(itl, limit, 4 * limit),
            )
        )
    return hits


def over_budget(r: Rule, w: DiagnosisWindow, sticky: bool) -> list[Hit]:
    """A broken latency budget, with what the hardware was doing as its cause."""
    hits = []
    for lat in ("ttft", "itl", "e2e"):
        for sid in _sids(w, f".{lat}.budget_s"):
            budget, p99 = w.last(f"serve.{sid}.{lat}.budget_s"), _p99(w, sid, lat)
            if budget is None or p99 is None or p99 <= budget:
                continue
            ev = [f"P99 {lat.upper()} {format_seconds(p99)} > {format_seconds(budget)} budget"]
            lo, hi = (
                w.last(f"serve.{sid}.{lat}.over_budget_lo_pct"),
                w.last(f"serve.{sid}.{lat}.over_budget_hi_pct"),
            )
            if lo is not None and hi is not None:
                ev.append(f"{lo:.1f}–{hi:.1f} % of requests over the budget (from the buckets)")
            q = w.last(f"serve.{sid}.queue.p99_s")
            if q is not None:
                ev.append(f"requests wait in the queue up to {format_seconds(q)} (P99)")
            phrase, verdict = hardware_phrase(w)
            ev.append(phrase)
            conf: Confidence = "high" if verdict else "medium"
            title = (
                f"{sid}: P99 {lat.upper()} {format_seconds(p99)} > {format_seconds(budget)} budget; {phrase}"
            )
            hits.append(
                Hit(
                    f"serve.{sid}", title, tuple(ev), conf, strength(p99, budget, 4 * budget), verdict=verdict
                )
            )
    return hits


# -- advice (suggestions, next step) -----------------------------------------------------------------
SCHEDULER = (
    "Raise the batch limits: vLLM --max-num-seqs / --max-num-batched-tokens, SGLang --max-running-requests",
    "Check the KV-cache size the server reserved (gpu_memory_utilization) is not what caps the batch",
)
KV_CACHE = (
    "Give the KV cache more memory: raise gpu_memory_utilization, or an FP8 KV cache (--kv-cache-dtype fp8)",
    "Shorten max_model_len, or add another replica to split the load",
)
PREFILL = (
    "Enable chunked prefill and prefix caching (long shared prompts are computed once)",
    "Disaggregate prefill from decode, or cap prompt length",
)
DECODE = (
    "Batch more requests per step (decode reads all weights once per step)",
    "Quantize weights/KV (FP8, INT4), or use speculative decoding",
)
BUDGET = (
    "Fix the cause named in the evidence first (queueing, KV cache, prefill, decode, the GPU verdict)",
    "Or relax the budget (--slo) / add replicas until P99 is inside it",
)
PROBE = "perftui diagnose --duration 30 --serve URL --slo chatbot  # while load runs"
