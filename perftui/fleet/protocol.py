"""The `perftui stream` wire format: one JSON object per line, versioned.

Every line: `{"schema": 1, "seq": n, "ts": <unix s>, "interval_s": s, "values": {key: [value, unit]},
"sources": {name: {"available": bool, "reason": str|null}}, "verdict": {"verdict", "confidence",
"title", "evidence"} | null}`; the first line (seq 0) also carries `"host"`: the machine's facts
(name, CPUs, memory, GPUs with model and power caps, perftui version).

Decoding is strict and never evaluates anything: a line that is not a JSON object of that shape,
or is longer than the cap, is an error naming what was wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from perftui.core.specs import spec_for

SCHEMA_VERSION = 1
MAX_LINE_BYTES = 1 << 20  # a line longer than this marks the host bad
MAX_KEYS = 20_000


class ProtocolError(ValueError):
    """A stream line that cannot be used; the message is one line."""


class SchemaMismatch(ProtocolError):
    def __init__(self, remote: int) -> None:
        side = "older" if remote < SCHEMA_VERSION else "newer"
        super().__init__(
            f"remote perftui speaks stream schema {remote}, this one speaks {SCHEMA_VERSION} "
            f"({side} perftui there: upgrade the older side)"
        )
        self.remote = remote


@dataclass(frozen=True)
class Verdict:
    verdict: str
    confidence: str
    title: str = ""
    evidence: str = ""


@dataclass
class Tick:
    seq: int
    ts: float
    interval_s: float
    values: dict[str, float]
    units: dict[str, str]
    sources: dict[str, tuple[bool, str | None]]
    verdict: Verdict | None
    host: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def unit_of(key: str) -> str:
    spec = spec_for(key)
    return spec.unit.value if spec is not None else ""


def encode_tick(
    seq: int,
    ts: float,
    interval_s: float,
    values: Mapping[str, float],
    sources: Mapping[str, tuple[bool, str | None]],
    verdict: Verdict | None,
    host: Mapping[str, Any] | None = None,
) -> str:
    obj: dict[str, Any] = {"schema": SCHEMA_VERSION, "seq": seq, "ts": round(ts, 3), "interval_s": interval_s}
    if host is not None:
        obj["host"] = dict(host)
    obj["values"] = {
        k: [float(f"{v:.6g}"), unit_of(k)] for k, v in sorted(values.items()) if math.isfinite(v)
    }
    obj["sources"] = {n: {"available": a, "reason": r} for n, (a, r) in sorted(sources.items())}
    obj["verdict"] = None if verdict is None else verdict.__dict__.copy()
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _text(x: Any, limit: int = 500) -> str:
    return x[:limit] if isinstance(x, str) else ""


def _no_constant(name: str) -> None:
    return None  # NaN, Infinity, -Infinity: absent, never a number


def decode_line(line: bytes | str) -> Tick:
    """One line of a remote stream as a Tick; ProtocolError (or SchemaMismatch) otherwise."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        obj = json.loads(line, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError("malformed JSON line") from None
    if not isinstance(obj, dict):
        raise ProtocolError("line is not a JSON object")
    schema = obj.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ProtocolError("line has no schema version (not a perftui stream?)")
    if schema != SCHEMA_VERSION:
        raise SchemaMismatch(schema)
    seq, ts, interval = _num(obj.get("seq")), _num(obj.get("ts")), _num(obj.get("interval_s"))
    if seq is None or ts is None or interval is None or interval <= 0:
        raise ProtocolError("line lacks seq, ts or interval_s")
    raw_values = obj.get("values")
    if not isinstance(raw_values, dict) or len(raw_values) > MAX_KEYS:
        raise ProtocolError("line has no usable values")
    values: dict[str, float] = {}
    units: dict[str, str] = {}
    for key, pair in raw_values.items():  # hot: 100 hosts x ~300 keys every interval
        if type(pair) is list and len(pair) == 2 and len(key) <= 200:
            v, unit = pair
            tv = type(v)
            if tv is float or tv is int:  # NaN/Infinity were turned into None; bool is not int here
                values[key] = v
                units[key] = unit[:16] if type(unit) is str else ""
    sources: dict[str, tuple[bool, str | None]] = {}
    raw_sources = obj.get("sources")
    if isinstance(raw_sources, dict):
        for name, st in list(raw_sources.items())[:200]:
            if isinstance(name, str) and isinstance(st, dict):
                reason = st.get("reason")
                sources[name[:64]] = (st.get("available") is True, _text(reason) or None)
    verdict = None
    raw_v = obj.get("verdict")
    if isinstance(raw_v, dict) and isinstance(raw_v.get("verdict"), str):
        verdict = Verdict(
            _text(raw_v["verdict"], 40),
            _text(raw_v.get("confidence"), 10) or "low",
            _text(raw_v.get("title")),
            _text(raw_v.get("evidence")),
        )
    host = obj.get("host")
    return Tick(
        seq=int(seq),
        ts=ts,
        interval_s=interval,
        values=values,
        units=units,
        sources=sources,
        verdict=verdict,
        host=host if isinstance(host, dict) else None,
    )
