"""What a run measured: percentiles with intervals, throughput, tokens, errors by kind, goodput.

Warm-up requests are left out. A request is *good* (goodput) when it succeeded and each budgeted
metric of it is within its budget: its TTFT, its mean inter-token gap (as vLLM's goodput uses the
per-request TPOT), its end-to-end latency.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from perftui.core.slo import Budget
from perftui.probe.client import Load, RunInfo
from perftui.probe.results import RequestResult
from perftui.probe.stats import Distribution, distribution

LATE_WARNING_S = 0.005  # warn when the client's P99 lateness is over this
LATE_WARNING_SHARE = 0.1  # ... and over this share of the median latency
METRIC_LABELS = {
    "latency": "latency",
    "ttft": "time to first token",
    "itl": "inter-token latency",
    "e2e": "end-to-end latency",
}


@dataclass
class Summary:
    load: str
    offered_rps: float | None  # open loop only
    scheduled_rps: float | None  # the schedule's own rate over this run (Poisson varies around offered)
    concurrency: int | None
    streaming: bool
    duration_s: float
    sent: int
    completed: int
    succeeded: int
    achieved_rps: float
    tokens: int
    tokens_per_s: float | None
    tokens_source: str | None  # "usage", "counted chunks", "usage and counted chunks"
    errors: dict[str, int]
    error_examples: dict[str, str]
    metrics: dict[str, Distribution]
    budgets: tuple[Budget, ...]
    good: int | None
    goodput_rps: float | None
    lateness_p99_s: float
    lateness_max_s: float
    warmup_excluded: int
    stopped: str | None
    cancelled: int
    warnings: list[str] = field(default_factory=list)

    def p99(self, metric: str) -> float | None:
        d = self.metrics.get(metric)
        return None if d is None else d.pct("p99").value

    def as_dict(self) -> dict[str, Any]:
        return {
            "load": self.load,
            "offered_rps": self.offered_rps,
            "scheduled_rps": self.scheduled_rps,
            "concurrency": self.concurrency,
            "streaming": self.streaming,
            "duration_s": self.duration_s,
            "sent": self.sent,
            "completed": self.completed,
            "succeeded": self.succeeded,
            "achieved_rps": self.achieved_rps,
            "tokens": self.tokens,
            "tokens_per_s": self.tokens_per_s,
            "tokens_source": self.tokens_source,
            "errors": dict(self.errors),
            "error_examples": dict(self.error_examples),
            "metrics": {k: d.as_dict() for k, d in self.metrics.items()},
            "budgets": [{"metric": b.metric, "p99_s": b.p99_s, "source": b.source} for b in self.budgets],
            "good": self.good,
            "goodput_rps": self.goodput_rps,
            "client_lateness_p99_s": self.lateness_p99_s,
            "client_lateness_max_s": self.lateness_max_s,
            "warmup_excluded": self.warmup_excluded,
            "stopped": self.stopped,
            "cancelled_in_flight": self.cancelled,
            "warnings": list(self.warnings),
        }


def _good(r: RequestResult, budgets: tuple[Budget, ...]) -> bool:
    if r.error is not None:
        return False
    for b in budgets:
        if b.metric == "ttft":
            value = r.ttft
        elif b.metric == "itl":
            value = float(np.mean(r.gaps)) if r.gaps else 0.0
        else:
            value = r.latency
        if value is None or value > b.p99_s:
            return False
    return True


def _scheduled_rate(measured: list[RequestResult], info: RunInfo, load: Load) -> float | None:
    """Requests due per second over the measured part: what the Poisson draw actually offered."""
    if load.rate is None or not measured:
        return None
    span = max(r.scheduled for r in measured) - info.measure_start + 1.0 / load.rate
    return len(measured) / span if span > 0 else None


def summarize(
    results: list[RequestResult],
    info: RunInfo,
    load: Load,
    *,
    streaming: bool,
    budgets: tuple[Budget, ...] = (),
    sent: int | None = None,
) -> Summary:
    measured = [r for r in results if not r.warmup]
    ok = [r for r in measured if r.error is None]
    end = max([info.end, *(r.ended for r in measured)]) if measured else info.end
    duration = max(end - info.measure_start, 1e-9)
    metrics: dict[str, Distribution] = {}
    if streaming:
        series = {
            "ttft": [r.ttft for r in ok if r.ttft is not None],
            "itl": [g for r in ok for g in r.gaps],
            "e2e": [r.latency for r in ok],
        }
    else:
        series = {"latency": [r.latency for r in ok]}
    for name, values in series.items():
        d = distribution(values)
        if d is not None:
            metrics[name] = d
    errors = Counter(r.error for r in measured if r.error is not None)
    examples: dict[str, str] = {}
    for r in measured:
        if r.error is not None and r.error not in examples:
            examples[r.error] = r.detail
    tokens = sum(r.tokens for r in ok)
    sources = {r.tokens_from_usage for r in ok}
    tokens_source = None
    if streaming and ok:
        tokens_source = (
            "usage"
            if sources == {True}
            else "counted chunks"
            if sources == {False}
            else "usage and counted chunks"
        )
    good = sum(1 for r in measured if _good(r, budgets)) if budgets else None
    late = np.array([r.lateness for r in measured]) if measured else np.zeros(1)
    warnings = [f"{METRIC_LABELS[k]}: {w}" for k, d in metrics.items() for w in d.warnings()]
    head = metrics.get("ttft" if streaming else "latency")
    p50 = head.pct("p50").value if head is not None else 0.0
    if measured and float(np.percentile(late, 99)) > max(LATE_WARNING_S, LATE_WARNING_SHARE * p50):
        warnings.append(
            f"the client fell behind its schedule (P99 {float(np.percentile(late, 99)) * 1e3:.1f} ms late); "
            "latency is still measured from the schedule"
        )
    return Summary(
        load=load.label,
        offered_rps=load.rate,
        scheduled_rps=_scheduled_rate(measured, info, load),
        concurrency=load.concurrency,
        streaming=streaming,
        duration_s=duration,
        sent=sent if sent is not None else len(results),
        completed=len(measured),
        succeeded=len(ok),
        achieved_rps=len(measured) / duration,
        tokens=tokens,
        tokens_per_s=tokens / duration if streaming else None,
        tokens_source=tokens_source,
        errors=dict(sorted(errors.items())),
        error_examples=examples,
        metrics=metrics,
        budgets=budgets,
        good=good,
        goodput_rps=None if good is None else good / duration,
        lateness_p99_s=float(np.percentile(late, 99)),
        lateness_max_s=float(late.max()),
        warmup_excluded=len(results) - len(measured),
        stopped=info.stopped,
        cancelled=info.cancelled,
        warnings=warnings,
    )
