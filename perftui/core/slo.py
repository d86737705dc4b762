"""Latency budgets (SLOs) by use case, shared by the serving source, the probe, the report and compare.

The presets are the playbook's table of P99 latency targets by use case. A budget applies to one
latency metric (TTFT, inter-token latency, end-to-end); a preset names a P99 limit that is applied
to TTFT for streaming LLM servers and to end-to-end latency otherwise (see `budgets_for`). No I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

LatencyMetric = Literal["ttft", "itl", "e2e"]
LATENCY_METRICS: tuple[LatencyMetric, ...] = ("ttft", "itl", "e2e")

LATENCY_LABELS: dict[LatencyMetric, str] = {
    "ttft": "time to first token",
    "itl": "inter-token latency",
    "e2e": "end-to-end latency",
}


@dataclass(frozen=True)
class SloPreset:
    """One use case of the playbook's latency table: its P99 target (None: throughput focus)."""

    name: str
    p99_s: float | None
    use_case: str
    focus: str


# The playbook's "Latency Targets by Use Case" table (P99).
SLO_PRESETS: dict[str, SloPreset] = {
    p.name: p
    for p in (
        SloPreset("chatbot", 0.200, "real-time chatbot", "model size, caching, quantization"),
        SloPreset("search", 0.100, "search / recommendations", "batch inference, pre-computation"),
        SloPreset("content", 2.0, "content generation", "throughput over latency"),
        SloPreset("fraud", 0.050, "fraud detection", "model simplification, edge deployment"),
        SloPreset("autonomous", 0.020, "autonomous vehicles", "edge inference, specialized hardware"),
        SloPreset("batch", None, "batch processing", "maximize throughput, cost efficiency"),
    )
}


@dataclass(frozen=True)
class Budget:
    """A P99 limit on one latency metric, and where it came from ("--slo chatbot", "--slo-ttft-p99")."""

    metric: LatencyMetric
    p99_s: float
    source: str

    def describe(self) -> str:
        return f"P99 {LATENCY_LABELS[self.metric]} < {format_seconds(self.p99_s)} ({self.source})"


class SloError(ValueError):
    """A budget the user wrote that cannot be used (the message is one line for the CLI)."""


def preset(name: str) -> SloPreset:
    """The preset called `name`, or SloError naming the known ones."""
    try:
        return SLO_PRESETS[name.strip().lower()]
    except KeyError:
        known = ", ".join(SLO_PRESETS)
        raise SloError(f"unknown --slo {name!r} (known: {known})") from None


_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s|us|µs)?\s*$")


def parse_seconds(text: str) -> float:
    """'0.2', '0.2s', '200ms', '150us' -> seconds; SloError for anything else, zero, or non-finite."""
    m = _DURATION.match(text)
    if m is None:
        raise SloError(f"not a duration: {text!r} (examples: 0.2, 200ms, 2s)")
    value = float(m.group(1))
    unit = m.group(2) or "s"
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}[unit]
    seconds = value * scale
    if not math.isfinite(seconds) or seconds <= 0:
        raise SloError(f"a latency budget must be a positive duration, not {text!r}")
    return seconds


def budgets_for(
    preset_name: str | None,
    *,
    streaming: bool,
    ttft_p99_s: float | None = None,
    itl_p99_s: float | None = None,
    e2e_p99_s: float | None = None,
) -> tuple[Budget, ...]:
    """The budgets in force: explicit limits win over the preset for their metric.

    A preset's P99 applies to TTFT when the workload streams tokens (an LLM server or an OpenAI
    stream), else to end-to-end latency; `batch` adds no latency budget.
    """
    out: dict[LatencyMetric, Budget] = {}
    if preset_name is not None:
        p = preset(preset_name)
        if p.p99_s is not None:
            metric: LatencyMetric = "ttft" if streaming else "e2e"
            out[metric] = Budget(metric, p.p99_s, f"--slo {p.name}")
    explicit: tuple[tuple[LatencyMetric, float | None], ...] = (
        ("ttft", ttft_p99_s),
        ("itl", itl_p99_s),
        ("e2e", e2e_p99_s),
    )
    for metric, value in explicit:
        if value is not None:
            if not math.isfinite(value) or value <= 0:
                raise SloError(f"--slo-{metric}-p99 must be a positive duration, not {value!r}")
            out[metric] = Budget(metric, value, f"--slo-{metric}-p99")
    return tuple(out[m] for m in LATENCY_METRICS if m in out)


def format_seconds(seconds: float) -> str:
    """Latencies as people quote them: 0.0123 -> '12.3 ms', 2.5 -> '2.50 s', 0.00004 -> '40 µs'."""
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        ms = seconds * 1e3
        return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"
