"""From readings to `serve.<sid>.*` values: rates with counter resets, quantiles, SLO shares, cost.

Rates are deltas between the last two scrapes; latency quantiles are over the window (the newest
scrape minus the oldest one still inside it) and since the server started (the cumulative buckets).
A counter that went backwards (a restart) gives no value that tick, never a negative rate.
"""

from __future__ import annotations

from typing import Any

from perftui.core.cost import GpuPrice, cost_per_1k_tokens, cost_per_request
from perftui.core.slo import Budget
from perftui.samplers.serving.histogram import Histogram, Quantile, mean, quantiles, share_over
from perftui.samplers.serving.parse import Reading
from perftui.samplers.serving.profiles import LATENCIES

RATE_KEYS = {
    "requests": "requests_per_s",
    "errors": "errors_per_s",
    "prompt_tokens": "prompt_tokens_per_s",
    "gen_tokens": "gen_tokens_per_s",
    "preemptions": "preemptions_per_s",
}
GAUGE_KEYS = {
    "running": "running",
    "waiting": "waiting",
    "kv_cache": "kv_cache_pct",
    "prefix_hit": "prefix_hit_pct",
}


def counter_rate(prev: float | None, now: float | None, dt: float) -> float | None:
    """Δ/Δt; None on the first tick, a non-positive interval, or a counter reset."""
    if prev is None or now is None or dt <= 0 or now < prev:
        return None
    return (now - prev) / dt


def _delta(now: Histogram | None, then: Histogram | None) -> Histogram | None:
    return now.minus(then) if now is not None else None


def server_values(
    sid: str,
    now: Reading,
    prev: Reading | None,
    dt: float,
    window_start: Reading | None,
    budgets: tuple[Budget, ...] = (),
    price: GpuPrice | None = None,
    gpus: int = 0,
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """The values for `serve.<sid>.*` and the detail facts (each quantile with its bucket)."""
    p = f"serve.{sid}."
    vals: dict[str, float | None] = {}
    for name, key in RATE_KEYS.items():
        if name in now.counters:
            vals[p + key] = counter_rate(prev.counters.get(name) if prev else None, now.counters[name], dt)
    if "prefix_hits" in now.counters and prev is not None:
        hits = counter_rate(prev.counters.get("prefix_hits"), now.counters["prefix_hits"], 1.0)
        queries = counter_rate(prev.counters.get("prefix_queries"), now.counters.get("prefix_queries"), 1.0)
        vals[p + "prefix_hit_pct"] = 100.0 * hits / queries if hits is not None and queries else None
    for name, key in GAUGE_KEYS.items():
        if name in now.gauges:
            vals[p + key] = now.gauges[name]
    detail: dict[str, Any] = {"quantiles": {}, "since_start": {}, "share_over": {}}
    for lat in LATENCIES:
        h_now = now.hists.get(lat)
        if h_now is None:
            if lat in now.means:
                vals[p + f"{lat}.mean_s"] = _mean_delta(now.means[lat], prev.means.get(lat) if prev else None)
            continue
        win = _delta(h_now, window_start.hists.get(lat) if window_start else None)
        qw, qc = quantiles(win), quantiles(h_now)
        for q in ("p50", "p95", "p99", "p999"):
            vals[p + f"{lat}.{q}_s"] = qw[q].value if q in qw else None
            vals[p + f"{lat}.{q}_cum_s"] = qc[q].value if q in qc else None
        vals[p + f"{lat}.mean_s"] = mean(win)
        detail["quantiles"][lat] = {q: _qdict(v) for q, v in qw.items()}
        detail["since_start"][lat] = {q: _qdict(v) for q, v in qc.items()}
    for b in budgets:
        vals[p + f"{b.metric}.budget_s"] = b.p99_s
        h = now.hists.get(b.metric)
        src = _delta(h, window_start.hists.get(b.metric) if window_start else None) if h else None
        share = share_over(src if src is not None and src.counts[-1] > 0 else h, b.p99_s)
        if share is not None:
            vals[p + f"{b.metric}.over_budget_lo_pct"] = 100.0 * share[0]
            vals[p + f"{b.metric}.over_budget_hi_pct"] = 100.0 * share[1]
            detail["share_over"][b.metric] = {"lo": share[0], "hi": share[1], "budget_s": b.p99_s}
    if price is not None and gpus > 0:
        vals[p + "cost_gpus"] = float(gpus)  # the assumption the cost stands on, recorded beside it
        vals[p + "cost_per_1k_tokens"] = cost_per_1k_tokens(price, gpus, vals.get(p + "gen_tokens_per_s"))
        vals[p + "cost_per_request"] = cost_per_request(price, gpus, vals.get(p + "requests_per_s"))
    return vals, detail


def _mean_delta(now: tuple[float, float], prev: tuple[float, float] | None) -> float | None:
    if prev is None:
        return now[0] / now[1] if now[1] > 0 else None
    d_sum, d_n = now[0] - prev[0], now[1] - prev[1]
    if d_sum < 0 or d_n <= 0:
        return None
    return d_sum / d_n


def _qdict(q: Quantile) -> dict[str, Any]:
    return {"value": q.value, "lo": q.lo, "hi": None if q.above_last else q.hi, "text": q.describe()}
