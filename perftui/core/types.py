"""Plain data classes shared by samplers, store and consumers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class SourceStatus(NamedTuple):
    """Whether a source can be sampled, and if not, why (said once, shown in its panel)."""

    available: bool
    reason: str | None = None

    @classmethod
    def ok(cls) -> SourceStatus:
        return cls(True, None)

    @classmethod
    def unavailable(cls, reason: str) -> SourceStatus:
        return cls(False, reason)


@dataclass(frozen=True)
class WindowStats:
    """Statistics of one metric over a window."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    p999: float
    max: float
    min: float

    def as_dict(self) -> dict[str, float]:
        return {
            "count": float(self.count),
            "mean": self.mean,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "p99.9": self.p999,
            "max": self.max,
            "min": self.min,
        }
