"""Medians and spreads of repeated measurements (no numpy: a handful of values)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    """Median, extremes and interquartile range of the finite values; n counts them."""

    n: int
    median: float | None
    lo: float | None
    hi: float | None
    iqr: float | None

    @property
    def spread(self) -> float | None:
        """hi - lo: with the 2-5 runs a benchmark affords, the full range is the honest spread."""
        if self.lo is None or self.hi is None:
            return None
        return self.hi - self.lo

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["spread"] = self.spread
        return d


def finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def summarise(values: Iterable[float | None]) -> Summary:
    xs = sorted(finite(values))
    if not xs:
        return Summary(0, None, None, None, None)
    if len(xs) >= 2:
        q = statistics.quantiles(xs, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = 0.0
    return Summary(len(xs), statistics.median(xs), xs[0], xs[-1], iqr)


def slowdown_pct(with_monitor: float, without: float) -> float:
    """How much longer a fixed job took with the monitor running, in % of the time without."""
    if without <= 0:
        raise ValueError("the reference time must be positive")
    return 100.0 * (with_monitor / without - 1.0)


def paired_slowdowns(pairs: Iterable[tuple[float, float]]) -> list[float]:
    """Per-pair slowdowns (%) of (with, without) run times taken back to back."""
    return [slowdown_pct(on, off) for on, off in pairs]


def fmt(s: Summary, scale: float = 1.0, digits: int = 2) -> str:
    """'median [lo–hi]' for a table cell; '–' where nothing was measured."""
    if s.median is None or s.lo is None or s.hi is None:
        return "–"
    m, lo, hi = s.median * scale, s.lo * scale, s.hi * scale
    if s.n == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}–{hi:.{digits}f}]"
