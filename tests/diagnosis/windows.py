"""Synthetic windows for the diagnosis tests: plain dicts of key -> values, made into windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftui.diagnosis.engine import diagnose
from perftui.diagnosis.model import Finding
from perftui.diagnosis.ruledef import Hit
from perftui.diagnosis.rules import RULES_BY_ID
from perftui.diagnosis.window import DiagnosisWindow

GiB = 1024**3
N = 10  # points per series: a 10 s window at 1 Hz

Values = dict[str, Any]


def const(v: float, n: int = N) -> list[float]:
    return [float(v)] * n


def window(values: Mapping[str, Any], details: Mapping[str, Any] | None = None) -> DiagnosisWindow:
    """Scalars become constant series of N points; lists are taken as they are."""
    series = {k: (v if isinstance(v, list) else const(v)) for k, v in values.items()}
    return DiagnosisWindow.from_values(series, details)


def hits(
    rule_id: str, values: Mapping[str, Any], details: Mapping[str, Any] | None = None, sticky: bool = False
) -> list[Hit]:
    rule = RULES_BY_ID[rule_id]
    return rule.check(rule, window(values, details), sticky)


def findings(
    values: Mapping[str, Any], details: Mapping[str, Any] | None = None, held: str | None = None
) -> list[Finding]:
    return diagnose(window(values, details), held=held)


def verdict(
    values: Mapping[str, Any], details: Mapping[str, Any] | None = None, held: str | None = None
) -> str:
    return findings(values, details, held)[0].verdict


def host(**over: float) -> Values:
    """A quiet 8-core host: CPU 20 %, no pressure anywhere."""
    v: Values = {
        "cpu.util": 20.0,
        "cpu.core_max.util": 35.0,
        "cpu.cores": 8.0,
        "cpu.iowait": 0.5,
        "psi.cpu.some10": 1.0,
        "psi.io.some10": 0.5,
        "psi.io.full10": 0.0,
        "psi.memory.some10": 0.0,
        "psi.memory.full10": 0.0,
    }
    v.update({k.replace("__", "."): val for k, val in over.items()})
    return v


def gpu(i: int = 0, tier: str = "gpm", **over: float) -> tuple[Values, dict[str, Any]]:
    """One GPU busy and compute-bound by default (GPM tier) or NVML-only (tier='nvml')."""
    p = f"gpu.{i}."
    v: Values = {
        p + "util": 97.0,
        p + "mem_util": 40.0,
        p + "mem_used_bytes": 40.0 * GiB,
        p + "mem_total_bytes": 80.0 * GiB,
        p + "throttled": 0.0,
    }
    if tier == "gpm":
        v.update(
            {
                p + "sm_active": 92.0,
                p + "dram_bw_util": 40.0,
                p + "tensor_active": 75.0,
                p + "sm_occupancy": 45.0,
            }
        )
    v.update({p + k: val for k, val in over.items()})
    return v, {p + "tier": tier}


def box(
    gpu_over: Mapping[str, float] | None = None, tier: str = "gpm", **host_over: float
) -> tuple[Values, dict[str, Any]]:
    """A quiet host with one GPU."""
    g, d = gpu(0, tier, **(gpu_over or {}))
    return {**host(**host_over), **g}, d
