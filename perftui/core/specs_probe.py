"""Specs of the probe's keys (`perftui probe`): the client-side view of a server under a load."""

from __future__ import annotations

from perftui.core.spec import MetricSpec
from perftui.core.units import Unit

_METRICS = {
    "latency": "request latency (from the scheduled send)",
    "ttft": "time to first token (from the scheduled send)",
    "itl": "inter-token latency (gap between content chunks)",
    "e2e": "end-to-end stream latency (from the scheduled send)",
}
_PCTS = {"p50": "P50", "p95": "P95", "p99": "P99", "p999": "P99.9"}

SPECS: list[MetricSpec] = [
    MetricSpec("probe.requests_per_s", Unit.PER_S, "probe requests completed", True, None, "req/s", "probe"),
    MetricSpec("probe.errors_per_s", Unit.PER_S, "probe requests failed", True, None, "errors", "probe"),
    MetricSpec("probe.tokens_per_s", Unit.PER_S, "output tokens streamed", True, None, "tok/s", "probe"),
    MetricSpec("probe.in_flight", Unit.COUNT, "probe requests in flight", False, None, "in flight", "probe"),
    *[
        MetricSpec(
            f"probe.{m}.{p}_s",
            Unit.SECONDS,
            f"{label} of {desc}, over the requests completed in the tick",
            False,
            None,
            f"{m} {label}",
            "probe",
        )
        for m, desc in _METRICS.items()
        for p, label in _PCTS.items()
    ],
]
