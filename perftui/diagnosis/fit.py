"""Fit a rule's advice to the box and to the processes behind the finding (rules.py holds the table).

GPU advice needs a GPU on the box and, when the culprits are known, a culprit on a GPU; Python advice
(DataLoader, GIL, py-spy) needs the top culprit to run Python (or, with no culprits, the attached
process);
the next step is aimed at the top culprit's PID (`perf top -p 4242`, `py-spy top --pid 4242`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from perftui.core import details
from perftui.diagnosis import culprits as C
from perftui.diagnosis.model import Culprit
from perftui.diagnosis.ruledef import Hit, Rule
from perftui.diagnosis.rules import CULPRIT_STEPS, GPU_ONLY, NOT_PYTHON_STEPS, PYTHON_ONLY
from perftui.diagnosis.window import DiagnosisWindow


@dataclass(frozen=True)
class Fitted:
    culprits: tuple[Culprit, ...]
    extra_evidence: tuple[str, ...]  # the culprit line, where the check did not write one
    suggestions: tuple[str, ...]
    next_step: str


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _gpu_index(subject: str) -> int | None:
    head, _, rest = subject.partition(".")
    idx = rest.split(".", 1)[0]
    return int(idx) if head == "gpu" and idx.isdigit() else None


def has_gpu(w: DiagnosisWindow) -> bool:
    return bool(w.gpu_indices()) or (details.gpu_count(w) or 0) > 0


def python_work(w: DiagnosisWindow, culprits: tuple[Culprit, ...]) -> bool | None:
    """Whether the work runs Python: the top culprit says (the one the next step aims at), else the
    attached process; None: unknown."""
    known = [c for c in culprits if c.name != "?"]  # a GPU process /proc did not show us: unknown
    if known:
        return known[0].python
    return C.attached_python(w)


def fits(text: str, python: bool | None, gpu_work: bool) -> bool:
    if text in GPU_ONLY and not gpu_work:
        return False
    return not (text in PYTHON_ONLY and python is False)


def fit(rule: Rule, hit: Hit, w: DiagnosisWindow) -> Fitted:
    culprits, extra = hit.culprits, tuple[str, ...]()
    index = _gpu_index(hit.subject)
    if not culprits and index is not None:
        culprits = C.gpu_culprits(w, index)
        if culprits:
            extra = (f"on GPU {index}: {C.line(culprits)}",)
    python = python_work(w, culprits)
    gpu_work = has_gpu(w) and (not culprits or any(c.uses_gpu for c in culprits))
    suggestions = tuple(s for s in rule.suggestions if fits(s, python, gpu_work))
    fmt: dict[str, str] = dict(hit.fmt)
    step = rule.next_step
    if culprits and rule.id in CULPRIT_STEPS:
        top = culprits[0]
        step = CULPRIT_STEPS[rule.id][0 if top.python else 1]
        fmt["pid"] = str(top.pid)
    else:
        if python is False:
            step = NOT_PYTHON_STEPS.get(step, step)
        if culprits and fmt.get("pid", "<PID>") == "<PID>":
            fmt["pid"] = str(culprits[0].pid)
    return Fitted(culprits, extra, suggestions, _fill(step, fmt))


def _fill(template: str, fmt: Mapping[str, str]) -> str:
    return template.format_map(_Fill(fmt))
