"""Reading a recording: validate the file, load it whole, feed a store, or yield ticks for replay.

`open_recording(path)` raises `RecordingError` (one line for the user) for a missing, empty,
truncated, corrupted, foreign (not SQLite, or SQLite but not ours) or newer-schema file.
"""

from __future__ import annotations

import math
import os
import sqlite3
import stat
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from perftui.core.specs import REGISTRY
from perftui.core.types import SourceStatus
from perftui.store import tables
from perftui.store.metric_store import MetricStore
from perftui.store.schema import (
    APPLICATION_ID,
    REQUIRED_TABLES,
    SCHEMA_VERSION,
    VerdictLike,
    VerdictRow,
)

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

SQLITE_MAGIC = b"SQLite format 3\x00"


class RecordingError(Exception):
    """The file is not a readable perftui recording; the message is one line for the user."""


@dataclass(frozen=True)
class StatusChange:
    ts: float
    source: str
    available: bool
    reason: str | None


@dataclass(frozen=True)
class DetailSnapshot:
    ts: float
    name: str
    value: Any


@dataclass(frozen=True)
class Tick:
    """Everything that happened at one timestamp, for a replay driver."""

    ts: float
    values: dict[str, float]
    statuses: dict[str, SourceStatus] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Recording:
    path: Path
    meta: dict[str, Any]
    units: dict[str, str]
    series: dict[str, tuple[FloatArray, FloatArray]]
    statuses: list[StatusChange] = field(default_factory=list)
    details: list[DetailSnapshot] = field(default_factory=list)
    timeline: list[VerdictRow] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return sorted(self.series)

    @property
    def start(self) -> float | None:
        firsts = [float(ts[0]) for ts, _ in self.series.values() if ts.size]
        return min(firsts) if firsts else _num(self.meta.get("start_time"))

    @property
    def end(self) -> float | None:
        lasts = [float(ts[-1]) for ts, _ in self.series.values() if ts.size]
        return max(lasts) if lasts else self.start

    @property
    def samples(self) -> int:
        return sum(int(ts.size) for ts, _ in self.series.values())

    def slice(self, t0: float | None = None, t1: float | None = None) -> Recording:
        """The part with t0 <= ts <= t1; statuses and details in force at t0 are kept."""
        lo = -np.inf if t0 is None else t0
        hi = np.inf if t1 is None else t1
        series: dict[str, tuple[FloatArray, FloatArray]] = {}
        for key, (ts, vals) in self.series.items():
            a = int(np.searchsorted(ts, lo, side="left"))
            b = int(np.searchsorted(ts, hi, side="right"))
            if b > a:
                series[key] = (ts[a:b], vals[a:b])
        return Recording(
            path=self.path,
            meta=self.meta,
            units=self.units,
            series=series,
            statuses=_in_force(self.statuses, lo, hi, lambda s: s.source),
            details=_in_force(self.details, lo, hi, lambda d: d.name),
            timeline=[e for e in self.timeline if lo <= e.ts <= hi],
        )

    def details_at(self, ts: float | None = None) -> dict[str, Any]:
        """The latest value of every detail at `ts` (default: the end)."""
        out: dict[str, Any] = {}
        for d in self.details:
            if ts is not None and d.ts > ts:
                break
            out[d.name] = d.value
        return out

    def details_series(self, name: str) -> list[DetailSnapshot]:
        return [d for d in self.details if d.name == name]

    def statuses_at(self, ts: float | None = None) -> dict[str, SourceStatus]:
        out: dict[str, SourceStatus] = {}
        for s in self.statuses:
            if ts is not None and s.ts > ts:
                break
            out[s.source] = SourceStatus(s.available, s.reason)
        return out


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _in_force(items: list[Any], lo: float, hi: float, name: Any) -> list[Any]:
    """Items inside [lo, hi], plus the last one before lo of each name (what was in force)."""
    before: dict[str, Any] = {}
    inside: list[Any] = []
    for item in items:
        if item.ts < lo:
            before[name(item)] = item
        elif item.ts <= hi:
            inside.append(item)
    return sorted(before.values(), key=lambda i: i.ts) + inside


# -- opening ----------------------------------------------------------------
def _check_file(p: Path) -> None:
    try:
        st = p.stat()
    except FileNotFoundError:
        raise RecordingError(f"{p}: no such file") from None
    except OSError as exc:
        raise RecordingError(f"{p}: {exc.strerror}") from None
    if p.is_dir():
        raise RecordingError(f"{p}: is a directory, not a perftui recording")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
        raise RecordingError(f"{p}: not a regular file, not a perftui recording")
    if st.st_size == 0:
        raise RecordingError(f"{p}: empty file, not a perftui recording")
    try:
        with open(p, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise RecordingError(f"{p}: {exc.strerror}") from None
    if not header.startswith(SQLITE_MAGIC):
        raise RecordingError(f"{p}: not a perftui recording (not an SQLite file)")
    if len(header) < 100:
        raise RecordingError(f"{p}: truncated recording (header incomplete)")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, n_pages = struct.unpack(">II", header[24:32])
    valid_for = struct.unpack(">I", header[92:96])[0]
    wal = p.with_name(p.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0  # pages not yet checkpointed (a stop mid-run)
    if n_pages and valid_for == change_counter and st.st_size < n_pages * page_size and not wal_pending:
        raise RecordingError(
            f"{p}: truncated recording ({st.st_size} bytes, the header says {n_pages * page_size})"
        )


def open_recording(path: str | os.PathLike[str]) -> Recording:
    p = Path(path)
    _check_file(p)
    uri = f"file:{quote(str(p.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise RecordingError(f"{p}: cannot open ({_line(exc)})") from None
    try:
        return _load(conn, p)
    except tables.TooLarge as exc:
        raise RecordingError(f"{p}: too large to read: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise RecordingError(f"{p}: corrupted or truncated recording ({_line(exc)})") from None
    except (ValueError, TypeError, OverflowError, RecursionError, struct.error) as exc:
        raise RecordingError(f"{p}: corrupted recording ({_line(exc)})") from None
    except MemoryError:
        raise RecordingError(f"{p}: too large to load in the memory available") from None
    finally:
        conn.close()


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load(conn: sqlite3.Connection, p: Path) -> Recording:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise RecordingError(f"{p}: an SQLite database, but not a perftui recording")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RecordingError(
            f"{p}: recorded by a newer perftui (schema {version}; this one reads up to {SCHEMA_VERSION})"
        )
    if version < 1:
        raise RecordingError(f"{p}: not a perftui recording (no schema version)")
    problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        first = problems[0].splitlines()[0].strip() if problems and problems[0] else "integrity check failed"
        raise RecordingError(f"{p}: corrupted recording ({first})")
    # One read transaction: a recorder compacting meanwhile (pending -> chunks) is seen before or after.
    conn.execute("BEGIN")
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = REQUIRED_TABLES - present
    if missing:
        raise RecordingError(f"{p}: corrupted recording (missing tables: {', '.join(sorted(missing))})")

    limits = tables.LIMITS
    budget = [limits.json_bytes]
    meta = tables.read_meta(conn, budget, limits)
    names, units = tables.read_keys(conn, limits)
    series = tables.read_series(conn, names, limits)
    statuses = [StatusChange(*row) for row in tables.read_status(conn, limits)]
    details = [DetailSnapshot(*row) for row in tables.read_details(conn, budget, limits)]
    timeline = [VerdictRow(*row) for row in tables.read_timeline(conn, budget, limits)]
    return Recording(p, meta, units, series, statuses, details, timeline)


# -- feeding a store / a replay driver --------------------------------------
def load_into_store(
    rec: Recording, store: MetricStore | None = None, until: float | None = None
) -> MetricStore:
    """Every point up to `until` (default: all) into a store sized to hold them all."""
    if store is None:
        longest = max((int(ts.size) for ts, _ in rec.series.values()), default=1)
        store = MetricStore(capacity=max(1, longest))
    last: dict[str, float] = {}
    for key, (ts, vals) in rec.series.items():
        if until is not None:
            cut = int(np.searchsorted(ts, until, side="right"))
            ts, vals = ts[:cut], vals[:cut]
        store.extend(key, ts, vals)
        src = _source_of(key)
        if src and ts.size:
            last[src] = max(last.get(src, float(ts[-1])), float(ts[-1]))
    for src, t in last.items():
        store.mark_sampled(src, t)
    for source, st in rec.statuses_at(until).items():
        store.set_status(source, st)
    for name, value in rec.details_at(until).items():
        store.set_detail(name, value)
    return store


def iter_ticks(rec: Recording) -> Iterator[Tick]:
    """Ticks in time order: the values, status changes and detail changes at each timestamp."""
    keys = list(rec.series)
    if keys:
        all_ts = np.concatenate([rec.series[k][0] for k in keys])
        all_vals = np.concatenate([rec.series[k][1] for k in keys])
        all_kid = np.concatenate(
            [np.full(rec.series[k][0].size, i, dtype=np.int64) for i, k in enumerate(keys)]
        )
        order = np.argsort(all_ts, kind="stable")
        all_ts, all_vals, all_kid = all_ts[order], all_vals[order], all_kid[order]
    else:
        all_ts = np.empty(0)
        all_vals = np.empty(0)
        all_kid = np.empty(0, dtype=np.int64)
    events: list[tuple[float, int, Any]] = [(s.ts, 0, s) for s in rec.statuses]
    events += [(d.ts, 1, d) for d in rec.details]
    events.sort(key=lambda e: (e[0], e[1]))
    bounds = np.flatnonzero(np.diff(all_ts)) + 1 if all_ts.size else np.empty(0, dtype=np.int64)
    starts = np.concatenate([[0], bounds]).astype(np.int64) if all_ts.size else np.empty(0, np.int64)
    ends = np.concatenate([bounds, [all_ts.size]]).astype(np.int64) if all_ts.size else starts
    ts_list = all_ts.tolist()
    vals_list = all_vals.tolist()
    kid_list = all_kid.tolist()
    ei = 0
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        ts = ts_list[a]
        statuses: dict[str, SourceStatus] = {}
        details: dict[str, Any] = {}
        while ei < len(events) and events[ei][0] <= ts:
            _, kind, ev = events[ei]
            if kind == 0:
                statuses[ev.source] = SourceStatus(ev.available, ev.reason)
            else:
                details[ev.name] = ev.value
            ei += 1
        yield Tick(ts, {keys[kid_list[i]]: vals_list[i] for i in range(a, b)}, statuses, details)
    if ei < len(events):
        statuses = {}
        details = {}
        for _, kind, ev in events[ei:]:
            if kind == 0:
                statuses[ev.source] = SourceStatus(ev.available, ev.reason)
            else:
                details[ev.name] = ev.value
        yield Tick(events[-1][0], {}, statuses, details)


_SOURCE_OF: dict[str, str] = {}


def _source_of(key: str) -> str:
    """The sampler a recorded key came from (its spec's source), cached: replay asks every tick."""
    src = _SOURCE_OF.get(key)
    if src is None:
        spec = REGISTRY.get(key)
        src = spec.source if spec is not None and spec.source else ""
        if len(_SOURCE_OF) < 100_000:
            _SOURCE_OF[key] = src
    return src


def replay_into(store: MetricStore, tick: Tick) -> None:
    """Apply one tick to a store, as the samplers would have (status, values, then details);
    each source that has values in the tick counts as sampled then, so panels are not "waiting"."""
    for source, st in tick.statuses.items():
        store.set_status(source, st)
    if tick.values:
        store.append(tick.ts, tick.values)
        for src in {_source_of(k) for k in tick.values}:
            if src:
                store.mark_sampled(src, tick.ts)
    for name, value in tick.details.items():
        store.set_detail(name, value)


def recording_from_store(
    store: MetricStore,
    meta: dict[str, Any] | None = None,
    timeline: Iterable[VerdictLike] = (),
    name: str = "live",
) -> Recording:
    """What a store holds now, as a Recording: the dashboard's "report of the current window"
    (live or replay) goes through the same report code as a file does."""
    series = {key: store.series(key) for key in store}
    now = store.last_ts or 0.0
    statuses = [StatusChange(now, s, st.available, st.reason) for s, st in sorted(store.statuses().items())]
    details = [DetailSnapshot(now, k, v) for k, v in sorted(store.details().items())]
    rows = [VerdictRow(e.ts, e.verdict, e.confidence, e.title, tuple(e.evidence)) for e in timeline]
    units = {key: REGISTRY.unit(key).value for key in series}
    return Recording(Path(name), dict(meta or {}), units, series, statuses, details, rows)
