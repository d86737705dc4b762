"""Percentiles with bootstrap 95 % confidence intervals, and how many samples a percentile needs.

Percentiles interpolate linearly (numpy's default, as `vllm bench serve` and genai-perf). The
interval is the percentile bootstrap: resample the values with replacement, take the percentile
of each resample, and report the 2.5th and 97.5th percentiles of those. A tail percentile is only
meaningful with several samples beyond it: P99.9 needs thousands of requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

QUANTILES: tuple[tuple[str, float], ...] = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))
LABELS = {"p50": "P50", "p95": "P95", "p99": "P99", "p999": "P99.9"}
MIN_TAIL = 5  # samples beyond a percentile for it to be reported without a warning
BOOTSTRAP_RESAMPLES = 400
_BATCH_CELLS = 2_000_000  # resampled values held at once (16 MB)


def needed(q: float) -> int:
    """Samples needed for percentile `q` (0-100) to have MIN_TAIL samples beyond it."""
    return int(np.ceil(MIN_TAIL / (1.0 - q / 100.0) - 1e-9))


@dataclass(frozen=True)
class Pct:
    name: str  # p50, p95, p99, p999
    value: float
    lo: float  # bootstrap 95 % interval
    hi: float
    enough: bool  # enough samples for this percentile

    def as_dict(self) -> dict[str, float | bool]:
        return {"value": self.value, "ci_low": self.lo, "ci_high": self.hi, "enough_samples": self.enough}


@dataclass(frozen=True)
class Distribution:
    count: int
    mean: float
    max: float
    pcts: tuple[Pct, ...]

    def pct(self, name: str) -> Pct:
        return next(p for p in self.pcts if p.name == name)

    def warnings(self) -> list[str]:
        return [
            f"{LABELS[p.name]} from {self.count} samples (needs ≥ {needed(q)}): read it as a rough figure"
            for p, (_, q) in zip(self.pcts, QUANTILES, strict=False)
            if not p.enough
        ]

    def as_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "mean": self.mean,
            "max": self.max,
            **{p.name: p.as_dict() for p in self.pcts},
        }


def bootstrap_ci(
    values: npt.NDArray[np.float64],
    qs: Sequence[float],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(low, high) arrays: the 95 % bootstrap interval of each percentile in `qs` (0-100)."""
    n = values.size
    rng = np.random.default_rng(seed)
    per_batch = max(1, _BATCH_CELLS // max(n, 1))
    estimates: list[npt.NDArray[np.float64]] = []
    done = 0
    while done < resamples:
        k = min(per_batch, resamples - done)
        idx = rng.integers(0, n, size=(k, n))
        estimates.append(np.percentile(values[idx], qs, axis=1).T)
        done += k
    est = np.concatenate(estimates, axis=0)  # (resamples, len(qs))
    lo, hi = np.percentile(est, [2.5, 97.5], axis=0)
    return lo, hi


def distribution(values: Sequence[float] | npt.NDArray[np.float64], seed: int = 0) -> Distribution | None:
    """Mean, max and each percentile with its interval; None when there are no values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    qs = [q for _, q in QUANTILES]
    point = np.percentile(v, qs)
    lo, hi = bootstrap_ci(v, qs, seed=seed) if v.size > 1 else (point, point)
    pcts = tuple(
        Pct(name, float(point[i]), float(lo[i]), float(hi[i]), v.size >= needed(q))
        for i, (name, q) in enumerate(QUANTILES)
    )
    return Distribution(int(v.size), float(v.mean()), float(v.max()), pcts)
