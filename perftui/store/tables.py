"""Reading each table of a recording as untrusted input: typed, finite, bounded, sanitized.

A recording is a file someone hands you. Every value read here is checked for its type and
finiteness, every compressed blob is inflated with a size limit, the number of keys, points and
rows and the size of the JSON texts are capped (`Limits`), JSON is parsed with numbers kept finite
and bounded, nested values are walked without recursion, and every string is passed through
`core.sanitize` so no control character reaches a terminal. A problem raises `BadRecording`
(a `ValueError` whose message is one line for the user).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from perftui.core.sanitize import NAME_MAX, TooDeep, clean, clean_text, clean_tree
from perftui.store import schema

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

TS_MAX = 1e11  # year 5138: far beyond any real recording, well inside what datetime can show
_INT_DIGITS = 19  # JSON integers longer than this are read as floats (or null when too big)
_BATCH = 65536


class BadRecording(ValueError):
    """The recording breaks a rule of the format; the message is one line."""


class TooLarge(BadRecording):
    """The recording holds more than `Limits` allows; the message is one line."""


@dataclass(frozen=True)
class Limits:
    """What a recording may hold before perftui refuses it (memory and time stay bounded)."""

    keys: int = 20_000
    points: int = 30_000_000  # chunked plus pending; ~16 bytes each once loaded
    rows: int = 1_000_000  # status, details, timeline rows each
    json_bytes: int = 128 * 2**20  # all meta, details and timeline texts together
    json_item_bytes: int = 8 * 2**20  # one JSON text


LIMITS = Limits()


def check_ts(value: Any, what: str = "timestamp") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecording(f"{what} is {type(value).__name__}, not a number")
    f = float(value)
    if not (0.0 <= f < TS_MAX):  # also false for NaN
        raise BadRecording(f"{what} {f!r} is out of range")
    return f


def check_count(value: Any, limit: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise BadRecording(f"{what} {value!r} is not a count between 0 and {limit:,}")
    return value


def check_text(value: Any, what: str, limit: int = NAME_MAX) -> str:
    if not isinstance(value, str):
        raise BadRecording(f"{what} is {type(value).__name__}, not text")
    return clean(value, limit)


def decode_floats(blob: Any, n: int, what: str) -> FloatArray:
    try:
        return schema.decode_floats(blob, n)
    except ValueError as exc:
        raise BadRecording(f"{what}: {exc}") from None


def decode_indices(blob: Any, n: int, what: str) -> npt.NDArray[np.int64]:
    try:
        return schema.decode_indices(blob, n)
    except ValueError as exc:
        raise BadRecording(f"{what}: {exc}") from None


def _parse_int(text: str) -> int | float | None:
    if len(text.lstrip("-")) <= _INT_DIGITS:
        return int(text)
    return _parse_float(text)


def _parse_float(text: str) -> float | None:
    f = float(text)
    return f if math.isfinite(f) else None


def _parse_constant(_: str) -> None:
    return None  # NaN, Infinity, -Infinity: absent


def load_json(text: Any, what: str, budget: list[int], limits: Limits = LIMITS) -> Any:
    """One JSON text: finite bounded numbers, strings sanitized, at most MAX_DEPTH deep."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRecording(f"{what} is not UTF-8") from None
    if not isinstance(text, str):
        raise BadRecording(f"{what} is {type(text).__name__}, not JSON text")
    if len(text) > limits.json_item_bytes:
        raise TooLarge(f"{what} is {len(text):,} characters (at most {limits.json_item_bytes:,})")
    budget[0] -= len(text)
    if budget[0] < 0:
        raise TooLarge(f"its JSON texts exceed {limits.json_bytes:,} characters in all")
    try:
        value = json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
        return clean_tree(value)
    except (RecursionError, TooDeep):
        raise BadRecording(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise BadRecording(f"{what} is not valid JSON ({str(exc).splitlines()[0][:120]})") from None


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _check_text_sizes(conn: sqlite3.Connection, table: str, column: str, limits: Limits) -> None:
    """Refuse a table whose longest or total JSON text is past the limits before reading any."""
    longest, total = conn.execute(
        f"SELECT max(length({column})), sum(length({column})) FROM {table}"
    ).fetchone()
    if isinstance(longest, int) and longest > limits.json_item_bytes:
        raise TooLarge(
            f"its {table} table holds a text of {longest:,} characters (at most {limits.json_item_bytes:,})"
        )
    if isinstance(total, int) and total > limits.json_bytes:
        raise TooLarge(f"its {table} texts exceed {limits.json_bytes:,} characters in all")


def read_meta(conn: sqlite3.Connection, budget: list[int], limits: Limits = LIMITS) -> dict[str, Any]:
    if _count(conn, "meta") > 10_000:
        raise TooLarge("its meta table has more than 10,000 rows")
    _check_text_sizes(conn, "meta", "value", limits)
    meta: dict[str, Any] = {}
    for name, value in conn.execute("SELECT name, value FROM meta"):
        key = check_text(name, "a meta name")
        meta[key] = load_json(value, f"meta {key!r}", budget, limits)
    start = meta.get("start_time")
    if start is not None and (
        isinstance(start, bool) or not isinstance(start, (int, float)) or not 0 <= start < TS_MAX
    ):
        meta["start_time"] = None
    return meta


def read_keys(conn: sqlite3.Connection, limits: Limits = LIMITS) -> tuple[dict[int, str], dict[str, str]]:
    n = _count(conn, "keys")
    if n > limits.keys:
        raise TooLarge(f"it holds {n:,} metric keys, more than perftui reads ({limits.keys:,})")
    names: dict[int, str] = {}
    units: dict[str, str] = {}
    for kid, name, unit in conn.execute("SELECT id, name, unit FROM keys"):
        key = check_text(name, "a metric key")
        names[int(kid)] = key
        units[key] = check_text(unit, f"the unit of {key!r}", 32)
    return names, units


def _take(n: Any, budget: int, cap: int, points: int, what: str) -> int:
    """`n` points out of what is left of the budget: a count within `cap`, else BadRecording;
    more than the budget left, TooLarge."""
    count = check_count(n, cap, what)
    if count > budget:
        raise TooLarge(f"it holds more than {points:,} points, more than perftui reads at once")
    return count


def read_series(
    conn: sqlite3.Connection, names: dict[int, str], limits: Limits = LIMITS
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Every key's points, from the compacted chunks and the pending rows, sorted by time."""
    budget = limits.points
    frames: dict[int, FloatArray] = {}
    for fid, n, blob in conn.execute("SELECT id, n, ts FROM frames"):
        budget -= _take(n, budget, limits.points, limits.points, "a frame's size")
        ts = decode_floats(blob, n, f"frame {fid}")
        if ts.size and not (bool(np.all(np.isfinite(ts))) and ts.min() >= 0 and ts.max() < TS_MAX):
            raise BadRecording(f"frame {fid} holds timestamps out of range")
        frames[int(fid)] = ts
    budget = limits.points
    parts_ts: dict[int, list[FloatArray]] = {}
    parts_vals: dict[int, list[FloatArray]] = {}
    for kid, fid, n, idx_blob, vals_blob in conn.execute(
        "SELECT key_id, frame_id, n, idx, vals FROM chunks ORDER BY key_id, frame_id"
    ):
        frame = frames.get(fid)
        if frame is None:
            raise BadRecording(f"a chunk refers to missing frame {fid!r}")
        if kid not in names:
            raise BadRecording(f"samples refer to unknown key id {kid!r}")
        budget -= _take(n, budget, frame.size, limits.points, "a chunk's size")
        idx = decode_indices(idx_blob, n, f"chunk of key {kid}")
        if idx.size and (idx[0] < 0 or idx[-1] >= frame.size or bool(np.any(np.diff(idx) < 0))):
            raise BadRecording(f"chunk positions outside frame {fid}")
        parts_ts.setdefault(kid, []).append(frame[idx])
        parts_vals.setdefault(kid, []).append(decode_floats(vals_blob, n, f"chunk of key {kid}"))
    pending = _count(conn, "pending")
    if pending > budget:
        raise TooLarge(f"it holds more than {limits.points:,} points, more than perftui reads at once")
    _read_pending(conn, pending, names, parts_ts, parts_vals)

    series: dict[str, tuple[FloatArray, FloatArray]] = {}
    for kid, ts_parts in parts_ts.items():
        ts = np.concatenate(ts_parts)
        vals = np.concatenate(parts_vals[kid])
        keep = np.isfinite(vals)  # NaN or infinite is no measurement: absent, as the store treats NaN
        if not bool(keep.all()):
            ts, vals = ts[keep], vals[keep]
        if ts.size > 1 and bool(np.any(np.diff(ts) < 0)):
            order = np.argsort(ts, kind="stable")
            ts, vals = ts[order], vals[order]
        series[names[kid]] = (ts, vals)
    return series


def _read_pending(
    conn: sqlite3.Connection,
    count: int,
    names: dict[int, str],
    parts_ts: dict[int, list[FloatArray]],
    parts_vals: dict[int, list[FloatArray]],
) -> None:
    """The pending rows in batches into preallocated arrays: memory stays ~24 bytes a row."""
    if count == 0:
        return
    kids = np.empty(count, dtype=np.float64)
    ts = np.empty(count, dtype=np.float64)
    vals = np.empty(count, dtype=np.float64)
    cur = conn.execute("SELECT key_id, ts, value FROM pending ORDER BY key_id, ts")
    at = 0
    while at < count:
        rows = cur.fetchmany(_BATCH)
        if not rows:
            break
        end = min(count, at + len(rows))
        try:
            block = np.asarray(rows[: end - at], dtype=np.float64)
        except (TypeError, ValueError):
            raise BadRecording("a pending sample is not a number") from None
        kids[at:end], ts[at:end], vals[at:end] = block[:, 0], block[:, 1], block[:, 2]
        at = end
    kids, ts, vals = kids[:at], ts[:at], vals[:at]
    if not (bool(np.all(np.isfinite(ts))) and ts.min() >= 0 and ts.max() < TS_MAX):
        raise BadRecording("a pending sample's timestamp is out of range")
    if not bool(np.all(np.isfinite(kids))):
        raise BadRecording("a pending sample has no key id")
    ikids = kids.astype(np.int64)
    bounds = np.flatnonzero(np.diff(ikids)) + 1
    for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), at], strict=True):
        kid = int(ikids[a])
        if kid not in names:
            raise BadRecording(f"samples refer to unknown key id {kid}")
        parts_ts.setdefault(kid, []).append(ts[a:b])
        parts_vals.setdefault(kid, []).append(vals[a:b])


def read_rows(conn: sqlite3.Connection, table: str, columns: str, limits: Limits = LIMITS) -> sqlite3.Cursor:
    """A cursor over a table's rows in time order, once its row count is within the limit."""
    n = _count(conn, table)
    if n > limits.rows:
        raise TooLarge(f"its {table} table has {n:,} rows, more than perftui reads ({limits.rows:,})")
    if table in ("details", "timeline"):
        _check_text_sizes(conn, table, "value" if table == "details" else "evidence", limits)
    return conn.execute(f"SELECT {columns} FROM {table} ORDER BY ts, rowid")


def read_status(
    conn: sqlite3.Connection, limits: Limits = LIMITS
) -> list[tuple[float, str, bool, str | None]]:
    out = []
    for ts, source, available, reason in read_rows(conn, "status", "ts, source, available, reason", limits):
        why = None if reason is None else check_text(reason, "a status reason", 1024)
        out.append((check_ts(ts), check_text(source, "a source name"), bool(available), why))
    return out


def read_details(
    conn: sqlite3.Connection, budget: list[int], limits: Limits = LIMITS
) -> list[tuple[float, str, Any]]:
    out = []
    for ts, name, value in read_rows(conn, "details", "ts, name, value", limits):
        key = check_text(name, "a detail name")
        out.append((check_ts(ts), key, load_json(value, f"detail {key!r}", budget, limits)))
    return out


def read_timeline(
    conn: sqlite3.Connection, budget: list[int], limits: Limits = LIMITS
) -> list[tuple[float, str, str, str, tuple[str, ...]]]:
    out = []
    cols = "ts, verdict, confidence, title, evidence"
    for ts, verdict, confidence, title, evidence in read_rows(conn, "timeline", cols, limits):
        ev = load_json(evidence, "a timeline entry's evidence", budget, limits)
        if not isinstance(ev, list) or not all(isinstance(e, (str, int, float)) for e in ev):
            raise BadRecording("a timeline entry's evidence is not a list of lines")
        out.append(
            (
                check_ts(ts),
                check_text(verdict, "a verdict"),
                check_text(confidence, "a confidence"),
                check_text(title, "a timeline title", 1024),
                tuple(clean_text(str(e)) for e in ev),
            )
        )
    return out
