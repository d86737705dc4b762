"""A sweep's knee: the highest load whose P99 stays within the budgets.

Without a budget the rule is the latency/throughput trade-off itself: the highest load whose P99
stays within twice the lightest load's and whose achieved rate keeps up (≥ 90 % of the offered rate
in the open loop), with no errors beyond 1 % of its requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perftui.core.slo import Budget
from perftui.probe.summary import Summary

KEEP_UP = 0.9
NO_BUDGET_FACTOR = 2.0
MAX_ERROR_SHARE = 0.01


@dataclass(frozen=True)
class Knee:
    index: int | None  # the step; None when even the lightest load is over
    rule: str

    def describe(self, steps: Sequence[Summary]) -> str:
        if self.index is None:
            return f"none: even the lightest load breaks the rule ({self.rule})"
        return f"{steps[self.index].load} ({self.rule})"


def parse_list(text: str, *, integer: bool) -> list[float]:
    """'1,2,4' -> [1.0, 2.0, 4.0]; ValueError (one line) for anything not positive."""
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(int(part)) if integer else float(part)
        except ValueError:
            raise ValueError(f"not a {'whole number' if integer else 'number'}: {part!r}") from None
        if not value > 0 or value == float("inf"):
            raise ValueError(f"must be more than 0, not {part!r}")
        out.append(value)
    return out


def _within(s: Summary, budgets: Sequence[Budget], base: Summary) -> bool:
    if s.completed and sum(s.errors.values()) > MAX_ERROR_SHARE * s.completed:
        return False
    if budgets:
        for b in budgets:
            metric = b.metric if s.streaming else "latency"
            p99 = s.p99(metric)
            if p99 is None or p99 > b.p99_s:
                return False
        return True
    metric = "ttft" if s.streaming else "latency"
    p99, p99_base = s.p99(metric), base.p99(metric)
    if p99 is None or p99_base is None or p99 > NO_BUDGET_FACTOR * p99_base:
        return False
    return s.offered_rps is None or s.achieved_rps >= KEEP_UP * s.offered_rps


def find_knee(steps: Sequence[Summary], budgets: Sequence[Budget]) -> Knee:
    if budgets:
        rule = "P99 within " + "; ".join(b.describe() for b in budgets)
    else:
        rule = "no budget: P99 ≤ 2× the lightest load's, keeping up with the offered rate"
    rule += ", errors ≤ 1 %"
    index = None
    if steps:
        for i, s in enumerate(steps):
            if _within(s, budgets, steps[0]):
                index = i
    return Knee(index, rule)
