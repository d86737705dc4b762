"""The sliding window of stack samples behind the stacks sampler's values.

`StackWindow` keeps dumps (points in time) and record slices (spans) of `ThreadSample`s and gives
the category shares, the top functions and the per-thread rows over the last `seconds`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

from perftui.core.stack_categories import STACK_CATEGORIES
from perftui.samplers.pyspy import ThreadSample

DEFAULT_WINDOW = 20.0  # seconds of samples behind the shares and top functions
TOP_N = 15


# -- aggregation --------------------------------------------------------------
class StackWindow:
    """Thread samples over a sliding window: category shares, top functions, per-thread state.

    An entry is one dump (a point in time) or one record slice (a span: its samples are spread
    evenly over it). Each entry counts with the share of it inside the last `seconds` (1 for a
    dump inside the window), so a slice that is half out of the window counts half.
    Sample weights may be fractional (`attribute_states` splits samples between categories).
    """

    def __init__(self, seconds: float = DEFAULT_WINDOW) -> None:
        self.seconds = seconds
        # (start, end, kind, samples), in the order they were added (end times ascending)
        self._entries: deque[tuple[float, float, str, list[ThreadSample]]] = deque()
        self._now: float | None = None

    def add(self, ts: float, samples: list[ThreadSample], *, start: float | None = None) -> None:
        """Add a dump taken at `ts`, or (with `start`) a slice sampled from `start` to `ts`."""
        kind = "dump" if start is None else "slice"
        self._entries.append((ts if start is None else min(start, ts), ts, kind, samples))
        self.prune(ts)

    def prune(self, now: float) -> None:
        self._now = now
        cutoff = now - self.seconds
        while self._entries and self._entries[0][1] <= cutoff:
            self._entries.popleft()

    def _factor(self, start: float, end: float) -> float:
        if self._now is None or end <= start:
            return 1.0
        cutoff = self._now - self.seconds
        if start >= cutoff:
            return 1.0
        return max(0.0, (end - cutoff) / (end - start))

    def _weighted(self) -> Iterator[tuple[int, ThreadSample, float]]:
        """(entry index, sample, weight in the window) of every sample still in the window."""
        for i, (start, end, _, samples) in enumerate(self._entries):
            f = self._factor(start, end)
            if f <= 0.0:
                continue
            for s in samples:
                w = s.weight * f
                if w > 0:
                    yield i, s, w

    @property
    def dumps(self) -> int:
        return sum(1 for e in self._entries if e[2] == "dump")

    @property
    def slices(self) -> int:
        return sum(1 for e in self._entries if e[2] == "slice")

    def total(self) -> float:
        return sum(w for _, _, w in self._weighted())

    def shares(self) -> dict[str, float]:
        counts: defaultdict[str, float] = defaultdict(float)
        for _, s, w in self._weighted():
            counts[s.category] += w
        total = sum(counts.values())
        if total <= 0:
            return {}
        return {cat: 100.0 * counts.get(cat, 0) / total for cat in STACK_CATEGORIES}

    def top(self, n: int = TOP_N) -> list[dict[str, Any]]:
        weighted = list(self._weighted())
        total = sum(w for _, _, w in weighted)
        if total <= 0:
            return []
        self_c: defaultdict[tuple[str, str], float] = defaultdict(float)
        total_c: defaultdict[tuple[str, str], float] = defaultdict(float)
        lines: dict[tuple[str, str], defaultdict[int, float]] = {}
        for _, s, w in weighted:
            if not s.frames:
                continue
            leaf = s.frames[0]
            key = (leaf.name, leaf.filename)
            self_c[key] += w
            if leaf.line is not None:
                lines.setdefault(key, defaultdict(float))[leaf.line] += w
            for k in {(f.name, f.filename) for f in s.frames}:
                total_c[k] += w
        ranked = sorted(total_c, key=lambda k: (-self_c.get(k, 0), -total_c[k], k))
        out = []
        for k in ranked[:n]:
            line_counts = lines.get(k)
            line = max(line_counts.items(), key=lambda kv: kv[1])[0] if line_counts else None
            if line is None:
                line = next(
                    (f.line for _, s, _w in weighted for f in s.frames if (f.name, f.filename) == k), None
                )
            out.append(
                {
                    "function": k[0],
                    "file": k[1],
                    "line": line,
                    "self_pct": min(100.0, 100.0 * self_c.get(k, 0) / total),
                    "total_pct": min(100.0, 100.0 * total_c[k] / total),
                }
            )
        return out

    def threads(self) -> list[dict[str, Any]]:
        per: dict[tuple[int, int | None, str], list[tuple[int, ThreadSample, float]]] = {}
        for i, s, w in self._weighted():
            per.setdefault((s.pid, s.tid, s.thread_name), []).append((i, s, w))
        out: list[dict[str, Any]] = []
        for (pid, tid, name), items in per.items():
            n = sum(w for _, _, w in items)
            cats: defaultdict[str, float] = defaultdict(float)
            for _, s, w in items:
                cats[s.category] += w
            newest = max(i for i, _, _ in items)
            last = max((s for i, s, _ in items if i == newest), key=lambda s: s.weight)
            active = [(s, w) for _, s, w in items if s.active is not None]  # dumps only
            gil = [(s, w) for _, s, w in items if s.owns_gil is not None]
            out.append(
                {
                    "pid": pid,
                    "tid": tid,
                    "name": name,
                    "samples": round(n, 1),
                    "active": active[-1][0].active if active else None,
                    "owns_gil": gil[-1][0].owns_gil if gil else None,
                    "active_pct": _pct_of(active, lambda s: bool(s.active)),
                    "gil_pct": _pct_of(gil, lambda s: bool(s.owns_gil)),
                    "category": max(cats.items(), key=lambda kv: kv[1])[0],
                    "leaf": f"{last.frames[0].name} ({last.frames[0].filename}:{last.frames[0].line})"
                    if last.frames
                    else None,
                }
            )
        out.sort(key=lambda d: (-float(d["samples"]), int(d["pid"]), int(d["tid"] or 0)))
        return out


def _pct_of(items: list[tuple[ThreadSample, float]], pred: Callable[[ThreadSample], bool]) -> float | None:
    total = sum(w for _, w in items)
    if total <= 0:
        return None
    return 100.0 * sum(w for s, w in items if pred(s)) / total
