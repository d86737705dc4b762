"""Specs of the serving source (inference servers' /metrics), keyed `serve.<sid>.<name>`.

Latency quantiles are estimated from histogram buckets (PromQL histogram_quantile): `<q>_s` over the
window, `<q>_cum_s` since the server started; each lies within one bucket, not exactly on the value.
"""

from __future__ import annotations

from perftui.core.spec import MetricSpec
from perftui.core.units import Unit

_LAT = {
    "ttft": "time to first token",
    "itl": "inter-token latency",
    "e2e": "end-to-end latency",
    "queue": "queue time",
}
_Q = {"p50": "P50", "p95": "P95", "p99": "P99", "p999": "P99.9"}


def _s(
    name: str, unit: Unit, desc: str, *, rate: bool = False, mx: float | None = None, label: str = ""
) -> MetricSpec:
    return MetricSpec(f"serve.*.{name}", unit, desc, rate, mx, label or name, "serving")


SPECS: list[MetricSpec] = [
    _s("requests_per_s", Unit.PER_S, "finished requests per second (QPS)", rate=True, label="QPS"),
    _s("errors_per_s", Unit.PER_S, "failed or aborted requests per second", rate=True, label="errors"),
    _s(
        "prompt_tokens_per_s",
        Unit.PER_S,
        "prompt tokens processed per second",
        rate=True,
        label="prompt tok/s",
    ),
    _s("gen_tokens_per_s", Unit.PER_S, "generated tokens per second", rate=True, label="gen tok/s"),
    _s("running", Unit.COUNT, "requests running (batch size)", label="running"),
    _s("waiting", Unit.COUNT, "requests waiting in the queue", label="waiting"),
    _s("kv_cache_pct", Unit.PERCENT, "KV cache in use", mx=100, label="KV"),
    _s("preemptions_per_s", Unit.PER_S, "requests preempted per second", rate=True, label="preempt/s"),
    _s("prefix_hit_pct", Unit.PERCENT, "prefix-cache hits per query", mx=100, label="prefix hit"),
    _s(
        "cost_per_1k_tokens",
        Unit.COUNT,
        "GPU cost per 1K generated tokens (USD, from --gpu-hour-cost)",
        label="$/1K tok",
    ),
    _s(
        "cost_per_request",
        Unit.COUNT,
        "GPU cost per finished request (USD, from --gpu-hour-cost)",
        label="$/req",
    ),
    _s(
        "cost_gpus",
        Unit.COUNT,
        "GPUs the cost is for (--serve-gpus, [serving] gpus, or all that NVML sees on this host)",
        label="cost GPUs",
    ),
    _s("tokens_per_joule", Unit.COUNT, "generated tokens per joule of GPU energy", label="tok/J"),
]
for _lat, _desc in _LAT.items():
    for _q, _qn in _Q.items():
        SPECS.append(
            _s(
                f"{_lat}.{_q}_s",
                Unit.SECONDS,
                f"{_qn} {_desc} over the window (from buckets)",
                label=f"{_qn} {_lat}",
            )
        )
        SPECS.append(
            _s(
                f"{_lat}.{_q}_cum_s",
                Unit.SECONDS,
                f"{_qn} {_desc} since the server started",
                label=f"{_qn} {_lat} all",
            )
        )
    SPECS.append(
        _s(f"{_lat}.mean_s", Unit.SECONDS, f"mean {_desc} over the last interval", label=f"mean {_lat}")
    )
for _lat in ("ttft", "itl", "e2e"):
    SPECS.append(
        _s(f"{_lat}.budget_s", Unit.SECONDS, f"P99 {_LAT[_lat]} budget (--slo)", label=f"{_lat} budget")
    )
    SPECS.append(
        _s(
            f"{_lat}.over_budget_lo_pct",
            Unit.PERCENT,
            f"requests over the {_lat} budget, lower bound",
            mx=100,
            label=f"{_lat} over ≥",
        )
    )
    SPECS.append(
        _s(
            f"{_lat}.over_budget_hi_pct",
            Unit.PERCENT,
            f"requests over the {_lat} budget, upper bound",
            mx=100,
            label=f"{_lat} over ≤",
        )
    )
