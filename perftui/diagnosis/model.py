"""The diagnosis data model, shared by the engine, the UI pane, the recorder and the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

# Class names exactly as `perftui diagnose --json` prints them.
Verdict = Literal[
    "compute-bound",
    "memory-bound",
    "io-bound",
    "cpu-bound",
    "communication-bound",
    "network-bound",
    "throttled",
    "idle",
    "none",
]
VERDICT_CLASSES: tuple[Verdict, ...] = get_args(Verdict)

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class Culprit:
    """A process a finding names as the one using the resource (from the `proctable` detail).

    `share` is in percent: CPU of one core (as top shows it), disk traffic and resident memory of all
    processes' (memory: of the host's total when known), a GPU of the memory its processes hold.
    `value` is the raw amount: CPU %, bytes/s, bytes. "iowait": a process in uninterruptible sleep
    (state D) named by an io-bound finding; share and value are its disk traffic, often none."""

    pid: int
    name: str
    share: float
    resource: Literal["cpu", "disk", "memory", "gpu", "iowait"]
    value: float
    python: bool = False
    uses_gpu: bool = False
    container: str = ""
    growth: float | None = None  # memory: resident bytes/s gained over the window


@dataclass(frozen=True)
class Finding:
    """One rule that fired: what limits the work, how sure, why, and what to do next."""

    verdict: Verdict
    title: str  # one human line, e.g. "GPU 0 memory-bound (DRAM bandwidth 86 % of peak)"
    confidence: Confidence
    score: float  # ranking weight, higher first
    evidence: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    next_step: str = ""
    rule: str = ""  # id of the rule in the rules table
    subject: str = ""  # "gpu.0", "host", "disk.nvme0n1", "proc" ...
    culprits: tuple[Culprit, ...] = ()  # the processes behind it, biggest share first

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        d["suggestions"] = list(self.suggestions)
        d["culprits"] = [asdict(c) for c in self.culprits]  # render.culprit_json adds the shown text
        return d


@dataclass(frozen=True)
class Diagnosis:
    """The verdict shown (after hysteresis) and every finding behind it."""

    verdict: Verdict
    confidence: Confidence
    findings: tuple[Finding, ...] = ()
    since: float | None = None  # store timestamp at which this verdict took hold

    @property
    def primary(self) -> Finding | None:
        return self.findings[0] if self.findings else None


@dataclass(frozen=True)
class TimelineEntry:
    ts: float
    verdict: Verdict
    confidence: Confidence
    title: str
    evidence: tuple[str, ...] = field(default_factory=tuple)
    also_verdict: str = ""  # the co-bottleneck, when one is strong (engine.co_bottleneck)
    also: str = ""  # its title

    @property
    def headline(self) -> str:
        """The title with the co-bottleneck: "storage I/O-bound (...); also cpu-bound: one core ..."."""
        return f"{self.title}; also {self.also_verdict}: {self.also}" if self.also else self.title

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        return d
