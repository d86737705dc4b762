"""What the fleet screen and `fleet --json` show for each host: pure functions over HostState.

A row per host (GPU count and model, mean/max utilisation, SM active, GPU memory, power vs caps,
CPU, verdict with confidence, serving P99, freshness), a row per GPU, sorting, filtering and the
summary line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from perftui.fleet.protocol import Tick
from perftui.fleet.state import BAD, CONNECTING, DOWN, STALE, UP, HostState

BUSY_UTIL_PCT = 10.0
SORT_KEYS = ("severity", "util", "power", "name")
# Higher is worse: what an operator looks at first.
VERDICT_SEVERITY: dict[str, int] = {
    "throttled": 8,
    "communication-bound": 7,
    "network-bound": 6,
    "io-bound": 6,
    "cpu-bound": 5,
    "memory-bound": 4,
    "compute-bound": 3,
    "idle": 1,
    "none": 0,
}
STATUS_SEVERITY = {BAD: 20, DOWN: 19, STALE: 18, CONNECTING: 10, UP: 0}
_P99_KEY = re.compile(r"(serve\.[^.]+\.e2e|probe\.latency|probe\.e2e)\.p99_s$")


@dataclass(frozen=True)
class GpuRow:
    index: int
    util: float | None
    sm_active: float | None
    mem_used: float | None
    mem_total: float | None
    power_w: float | None
    power_cap_w: float | None
    temp_c: float | None


@dataclass(frozen=True)
class HostRow:
    name: str
    status: str
    error: str | None
    gpu_count: int
    gpu_model: str
    util_mean: float | None
    util_max: float | None
    sm_active: float | None
    mem_used: float | None
    mem_total: float | None
    power_w: float | None
    power_cap_w: float | None
    cpu: float | None
    verdict: str
    confidence: str
    evidence: str
    p99_s: float | None
    age_s: float | None
    gpus: tuple[GpuRow, ...]

    @property
    def severity(self) -> int:
        return STATUS_SEVERITY.get(self.status, 0) + VERDICT_SEVERITY.get(self.verdict, 0)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["gpus"] = [asdict(g) for g in self.gpus]
        return d


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _sum(xs: Sequence[float]) -> float | None:
    return sum(xs) if xs else None


GPU_FIELDS = ("util", "sm_active", "mem_used_bytes", "mem_total_bytes", "power_w", "power_limit_w", "temp_c")
MAX_GPUS = 256


_GPU_KEYS: list[tuple[str, ...]] = []  # GPU i's keys ("gpu.3.util", ...), made once, as needed


def _gpu_keys(i: int) -> tuple[str, ...]:
    while len(_GPU_KEYS) <= i:
        n = len(_GPU_KEYS)
        _GPU_KEYS.append(tuple(f"gpu.{n}.{name}" for name in GPU_FIELDS))
    return _GPU_KEYS[i]


def gpu_rows(tick: Tick | None, count: int = 0) -> tuple[GpuRow, ...]:
    """One row per GPU index 0..n-1 (NVML numbers them without gaps); a few lookups per GPU, not a
    scan of every key (this runs for every host at every tick)."""
    if tick is None:
        return ()
    value = tick.value
    out: list[GpuRow] = []
    for i in range(MAX_GPUS):
        got = [value(k) for k in _gpu_keys(i)]
        if got.count(None) == len(got):
            if i >= count:
                break
            continue
        out.append(GpuRow(i, *got))
    return tuple(out)


def _derived(state: HostState) -> tuple[tuple[GpuRow, ...], list[float]]:
    """GPU rows and serving P99s of the last tick, computed once per tick."""
    cached = state.row_cache
    if cached is not None and cached[0] is state.last:
        return cached[1]  # type: ignore[no-any-return]
    tick = state.last
    raw_gpus = state.facts.get("gpus")
    count = len(raw_gpus) if isinstance(raw_gpus, list) else 0
    p99s: list[float] = []
    if tick is not None:
        for k in tick.value_keys():
            if k[0] in "sp" and _P99_KEY.match(k):
                v = tick.value(k)
                if v is not None:
                    p99s.append(v)
    out = (gpu_rows(tick, count), p99s)
    state.row_cache = (state.last, out)
    return out


def host_row(state: HostState, now: float) -> HostRow:
    tick = state.last
    gpus, p99s = _derived(state)
    raw_gpus = state.facts.get("gpus")
    facts_gpus: list[Any] = raw_gpus if isinstance(raw_gpus, list) else []
    names = [str(g.get("name")) for g in facts_gpus if isinstance(g, dict) and g.get("name")]
    model = Counter(names).most_common(1)[0][0] if names else ""
    utils = [g.util for g in gpus if g.util is not None]
    sms = [g.sm_active for g in gpus if g.sm_active is not None]
    v = state.verdict
    return HostRow(
        name=state.name,
        status=state.status,
        error=state.error,
        gpu_count=max(len(gpus), len(facts_gpus)),
        gpu_model=model,
        util_mean=_mean(utils),
        util_max=max(utils) if utils else None,
        sm_active=_mean(sms),
        mem_used=_sum([g.mem_used for g in gpus if g.mem_used is not None]),
        mem_total=_sum([g.mem_total for g in gpus if g.mem_total is not None]),
        power_w=_sum([g.power_w for g in gpus if g.power_w is not None]),
        power_cap_w=_sum([g.power_cap_w for g in gpus if g.power_cap_w is not None]),
        cpu=tick.value("cpu.util") if tick is not None else None,
        verdict=v.verdict if v else "",
        confidence=v.confidence if v else "",
        evidence=v.evidence or v.title if v else "",
        p99_s=max(p99s) if p99s else None,
        age_s=state.age(now),
        gpus=gpus,
    )


def sort_rows(rows: Iterable[HostRow], key: str) -> list[HostRow]:
    rows = list(rows)
    if key == "name":
        return sorted(rows, key=lambda r: r.name)
    if key == "util":
        return sorted(rows, key=lambda r: (-(r.util_mean if r.util_mean is not None else -1), r.name))
    if key == "power":
        return sorted(rows, key=lambda r: (-(r.power_w if r.power_w is not None else -1), r.name))
    return sorted(rows, key=lambda r: (-r.severity, r.name))


def filter_rows(rows: Iterable[HostRow], text: str) -> list[HostRow]:
    """Rows whose name, status, verdict, model or error contain every word of `text`."""
    words = text.lower().split()
    if not words:
        return list(rows)

    def hay(r: HostRow) -> str:
        return " ".join((r.name, r.status, r.verdict, r.gpu_model, r.error or "")).lower()

    return [r for r in rows if all(w in hay(r) for w in words)]


def summary_line(rows: Sequence[HostRow]) -> str:
    up = sum(1 for r in rows if r.status == UP)
    down = len(rows) - up
    busy = sum(1 for r in rows for g in r.gpus if g.util is not None and g.util >= BUSY_UTIL_PCT)
    gpus = sum(len(r.gpus) for r in rows)
    verdicts = Counter(r.verdict for r in rows if r.status == UP and r.verdict)
    parts = [f"{len(rows)} hosts: {up} up, {down} down", f"GPUs {busy} busy / {gpus - busy} idle"]
    if verdicts:
        parts.append(", ".join(f"{n} {v}" for v, n in sorted(verdicts.items(), key=lambda p: (-p[1], p[0]))))
    return " · ".join(parts)
