"""The `perftui stream` wire format: one JSON object per line, versioned.

Every line: `{"schema": 1, "seq": n, "ts": <unix s>, "interval_s": s, "values": {key: value},
"sources": {name: {"available": bool, "reason": str|null}}, "verdict": {"verdict", "confidence",
"title", "evidence"} | null}`. The first line (seq 0) also carries `"host"`: the machine's facts
(name, CPUs, memory, GPUs with model and power caps, perftui version). `"units": {key: unit}` comes
with the first line and with any later line whose keys were not all sent before: units once, not
a second string per value per line (a hundred hosts' lines are parsed every interval).

Decoding is strict and never evaluates anything: a line that is not a JSON object of that shape,
or is longer than the cap, is an error naming what was wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
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


def _number(v: Any) -> float | None:
    tv = type(v)
    if tv is float or tv is int:  # NaN/Infinity were turned into None; bool is not int here
        return v  # type: ignore[no-any-return]
    return None


class Tick:
    """One line's content. Values decoded from a line are checked when first read (all of them
    for the store, or one by one for the fleet rows): a hundred hosts' lines are mostly never
    read value by value."""

    __slots__ = ("_raw", "_units", "_values", "host", "interval_s", "seq", "sources", "ts", "verdict")

    def __init__(
        self,
        seq: int,
        ts: float,
        interval_s: float,
        values: dict[str, float] | None,
        units: dict[str, str] | None,
        sources: dict[str, tuple[bool, str | None]],
        verdict: Verdict | None,
        host: dict[str, Any] | None = None,
        *,
        raw: dict[str, Any] | None = None,
    ) -> None:
        self.seq, self.ts, self.interval_s = seq, ts, interval_s
        self._values, self._units, self._raw = values, units, raw
        self.sources, self.verdict, self.host = sources, verdict, host

    def _check_all(self) -> None:
        values: dict[str, float] = {}
        for key, raw in (self._raw or {}).items():
            v = _number(raw)
            if v is not None and len(key) <= 200:
                values[key] = v
        self._values = values

    @property
    def values(self) -> dict[str, float]:
        if self._values is None:
            self._check_all()
        assert self._values is not None
        return self._values

    @property
    def units(self) -> dict[str, str]:
        """Units of the keys this line introduced (the first line, and any line with new keys)."""
        return self._units or {}

    def value(self, key: str) -> float | None:
        if self._values is not None:
            return self._values.get(key)
        return _number(self._raw.get(key)) if self._raw is not None else None

    def value_keys(self) -> list[str]:
        if self._values is not None:
            return list(self._values)
        return list(self._raw or ())


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
    known: set[str] | None = None,
) -> str:
    """One line. `known`: the keys whose units were already sent (updated here); None: send all."""
    obj: dict[str, Any] = {"schema": SCHEMA_VERSION, "seq": seq, "ts": round(ts, 3), "interval_s": interval_s}
    if host is not None:
        obj["host"] = dict(host)
    obj["values"] = {k: float(f"{v:.6g}") for k, v in sorted(values.items()) if math.isfinite(v)}
    if known is None or not known.issuperset(obj["values"]):
        obj["units"] = {k: unit_of(k) for k in obj["values"]}
        if known is not None:
            known.update(obj["values"])
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
    units: dict[str, str] = {}
    raw_units = obj.get("units")
    if isinstance(raw_units, dict):
        for key, unit in list(raw_units.items())[:MAX_KEYS]:
            if isinstance(unit, str) and len(key) <= 200:
                units[key] = unit[:16]
    host = obj.get("host")
    return Tick(
        seq=int(seq),
        ts=ts,
        interval_s=interval,
        values=None,
        units=units,
        sources=sources,
        verdict=verdict,
        host=host if isinstance(host, dict) else None,
        raw=raw_values,
    )
