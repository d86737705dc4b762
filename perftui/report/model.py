"""The report model: built once from a recording (or a store window), rendered as md, html and json.

Values are SI numbers (as stored); `shown` strings are what a human reads. Times are seconds since
the epoch; `offset` values are seconds from the start of the report window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from perftui.efficiency.summary import EfficiencySection

STAT_NAMES: tuple[str, ...] = ("mean", "p50", "p95", "p99", "p99.9", "max")


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    description: str
    unit: str
    count: int
    stats: dict[str, float]  # STAT_NAMES (+ "min"), SI
    shown: dict[str, str]  # the same, formatted for a human


@dataclass(frozen=True)
class SourceSection:
    source: str
    available: bool | None  # None: no status was recorded for it
    reason: str | None
    rows: tuple[MetricRow, ...]


@dataclass(frozen=True)
class TimelineRow:
    ts: float
    offset: float
    verdict: str
    confidence: str
    title: str
    evidence: tuple[str, ...] = ()
    also: str = ""  # the co-bottleneck, "cpu-bound: one core saturated (99 %)" ("" when none)

    @property
    def finding(self) -> str:
        return f"{self.title}; also {self.also}" if self.also else self.title


@dataclass(frozen=True)
class Advice:
    """What to do about one verdict: from the engine's findings."""

    verdict: str
    title: str
    suggestions: tuple[str, ...]
    next_step: str
    culprits: str = ""  # the processes behind it: "sha256sum (PID 4242) 100 %, ..." ("" when unknown)


@dataclass(frozen=True)
class DiagnosisSection:
    recorded: tuple[TimelineRow, ...]
    recomputed: tuple[TimelineRow, ...] | None  # None: the engine could not run on this data
    shares: dict[str, float]  # verdict -> share of the window's time (0..1), from the best timeline
    dominant: str | None
    advice: tuple[Advice, ...]
    note: str = ""
    step_s: float | None = None  # how often the engine ran when recomputing
    also_shares: dict[str, float] = field(default_factory=dict)  # co-bottleneck verdict -> share of time


@dataclass(frozen=True)
class Table:
    """A detail rendered as a table (top processes, top stacks)."""

    name: str
    title: str
    ts: float | None
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    unit: str
    natural_max: float | None
    offsets: tuple[float, ...]  # seconds from the window start
    values: tuple[float, ...]
    shown_max: str


@dataclass(frozen=True)
class Report:
    title: str
    system: tuple[tuple[str, str], ...]
    start: float
    end: float
    recording_start: float | None
    recording_end: float | None
    samples: int
    sources: tuple[SourceSection, ...]
    diagnosis: DiagnosisSection
    processes: tuple[Table, ...] = ()
    stacks: tuple[Table, ...] = ()
    category_shares: tuple[tuple[str, float], ...] = ()  # (category, mean share %)
    charts: tuple[Chart, ...] = field(default_factory=tuple)
    source_file: str = ""
    efficiency: EfficiencySection | None = None  # TFLOP/s, MFU, energy, cost (None: no GPU, no tokens)
    serving: tuple[Table, ...] = ()  # per inference server: latency vs budget, cost/efficiency
    probe: tuple[Table, ...] = ()  # `perftui probe --record`: final percentiles per step

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration"] = self.duration
        d["system"] = dict(self.system)
        d["category_shares"] = dict(self.category_shares)
        if not self.serving:  # recordings without an inference server keep their JSON as it was
            del d["serving"]
        if not self.probe:
            del d["probe"]  # only a probe's recording has the section
        _drop_empty_also(d["diagnosis"])
        return d


def _drop_empty_also(diagnosis: dict[str, Any]) -> None:
    """Reports without a co-bottleneck keep their JSON as it was."""
    if not diagnosis.get("also_shares"):
        diagnosis.pop("also_shares", None)
    for rows in (diagnosis.get("recorded"), diagnosis.get("recomputed")):
        for row in rows or ():
            if not row.get("also"):
                row.pop("also", None)
