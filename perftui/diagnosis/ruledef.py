"""The shapes of the rules table: thresholds, rules, and what a rule's check returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from perftui.diagnosis.model import Confidence, Culprit, Verdict
from perftui.diagnosis.window import DiagnosisWindow


@dataclass(frozen=True)
class Th:
    """A threshold. `band` is the Schmitt-trigger margin: while a rule's verdict is the one
    shown, its thresholds relax by `band` so a signal sitting on the line does not flap."""

    value: float
    band: float = 0.0

    def ge(self, v: float | None, sticky: bool = False) -> bool:
        return v is not None and v >= self.value - (self.band if sticky else 0.0)

    def lt(self, v: float | None, sticky: bool = False) -> bool:
        return v is not None and v < self.value + (self.band if sticky else 0.0)


@dataclass(frozen=True)
class Hit:
    """One rule firing on one subject (a GPU, the host, a disk, the attached process)."""

    subject: str
    title: str
    evidence: tuple[str, ...]
    confidence: Confidence
    strength: float = 0.0  # 0..1: how far past the threshold, to rank findings of equal base
    base: float | None = None  # override the rule's base score (moderate bands)
    verdict: Verdict | None = None  # override the rule's verdict (NVML tier: compute vs memory)
    fmt: Mapping[str, str] = field(default_factory=dict)  # values for the next_step template
    culprits: tuple[Culprit, ...] = ()  # the processes behind it (diagnosis/culprits.py)


Check = Callable[["Rule", DiagnosisWindow, bool], list[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    verdict: Verdict
    base: float  # ranking weight; a finding's score is base + 10 * strength
    signals: tuple[str, ...]  # store key patterns the rule reads (fnmatch style)
    th: Mapping[str, Th]
    check: Check
    suggestions: tuple[str, ...]
    next_step: str  # a concrete command; {pid}, {gpu}, {disk} filled from the hit


def strength(v: float, lo: float, hi: float) -> float:
    """How far v is from lo toward hi, clamped to 0..1."""
    if hi == lo:
        return 1.0
    return float(min(1.0, max(0.0, (v - lo) / (hi - lo))))
