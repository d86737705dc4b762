"""The recording file format (one SQLite file), shared by the recorder and the reader.

Layout, schema version 1:

- ``PRAGMA application_id`` = APPLICATION_ID (so a foreign SQLite file is recognised),
  ``PRAGMA user_version`` = SCHEMA_VERSION (a reader refuses newer files).
- ``meta(name, value)``: JSON values (host, CPU, memory, GPUs, versions, start time, command line).
- ``keys(id, name, unit)``: one row per metric key; samples refer to the integer id.
- ``frames(id, t0, t1, n, ts)``: the distinct timestamps of one compaction period (every key a
  sampler writes in one tick shares its timestamp, so it is stored once), `encode_floats`.
- ``chunks(key_id, frame_id, n, idx, vals)``: one key's points in a frame: positions into the
  frame's timestamps (`encode_indices`) and float64 values (`encode_floats`), both lossless.
- ``pending(ts, key_id, value)``: points committed every flush (<= 1 s) and not yet compacted into
  chunks; compaction moves them into ``chunks`` in one transaction. After a SIGKILL the reader
  merges both, so at most the last flush is lost.
- ``status(ts, source, available, reason)``: source status changes.
- ``details(ts, name, value)``: JSON snapshots of store details, written when they change.
- ``timeline(ts, verdict, confidence, title, evidence)``: the diagnosis timeline (evidence JSON).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from perftui.store.ring import FloatArray

APPLICATION_ID = 0x50465455  # "PFTU"
SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, unit TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY, t0 REAL NOT NULL, t1 REAL NOT NULL, n INTEGER NOT NULL, ts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    key_id INTEGER NOT NULL,
    frame_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    idx BLOB NOT NULL,
    vals BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (ts REAL NOT NULL, key_id INTEGER NOT NULL, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS status (
    ts REAL NOT NULL, source TEXT NOT NULL, available INTEGER NOT NULL, reason TEXT
);
CREATE TABLE IF NOT EXISTS details (ts REAL NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timeline (
    ts REAL NOT NULL,
    verdict TEXT NOT NULL,
    confidence TEXT NOT NULL,
    title TEXT NOT NULL,
    evidence TEXT NOT NULL
);
"""


class VerdictLike(Protocol):
    """What the recorder needs of a diagnosis timeline entry (`diagnosis.model.TimelineEntry` fits;
    the store layer does not import the diagnosis layer)."""

    @property
    def ts(self) -> float: ...
    @property
    def verdict(self) -> str: ...
    @property
    def confidence(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def evidence(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class VerdictRow:
    """One recorded timeline row, as read back (the fields of `diagnosis.model.TimelineEntry`)."""

    ts: float
    verdict: str
    confidence: str
    title: str
    evidence: tuple[str, ...] = ()


REQUIRED_TABLES = frozenset({"meta", "keys", "frames", "chunks", "pending", "status", "details", "timeline"})


def encode_floats(values: FloatArray) -> bytes:
    """Lossless, compact: XOR each float64 with the previous one, shuffle the bytes, zlib.

    Slowly varying series (timestamps, counters, constants) leave long runs of zero bytes in
    the high-order planes, which zlib squeezes; decoding gives back the exact bit patterns.
    """
    bits = np.ascontiguousarray(values, dtype="<f8").view("<u8")
    x = bits.copy()
    if x.size > 1:
        x[1:] ^= bits[:-1]
    planes = x.view(np.uint8).reshape(-1, 8).T
    return zlib.compress(np.ascontiguousarray(planes).tobytes(), 6)


def inflate(blob: bytes, size: int) -> npt.NDArray[np.uint8]:
    """zlib-decompress `blob` to exactly `size` bytes and never more: a blob that would inflate
    further (a zlib bomb in a crafted file) stops at `size` + 1 and is refused."""
    if not isinstance(blob, bytes):
        raise ValueError(f"a chunk is {type(blob).__name__}, not a blob")
    d = zlib.decompressobj()
    try:
        raw = d.decompress(blob, size + 1)
    except zlib.error as exc:
        raise ValueError(f"a chunk does not inflate ({exc})") from None
    if len(raw) != size or d.unconsumed_tail:
        raise ValueError(
            f"chunk holds {'more than ' if len(raw) > size else ''}{len(raw)} bytes, expected {size}"
        )
    return np.frombuffer(raw, dtype=np.uint8)


def decode_floats(blob: bytes, n: int) -> FloatArray:
    raw = inflate(blob, 8 * n)
    x = np.ascontiguousarray(raw.reshape(8, n).T).view("<u8").reshape(n)
    bits = np.bitwise_xor.accumulate(x)
    return bits.view("<f8").astype(np.float64)


def encode_indices(idx: npt.NDArray[np.int64]) -> bytes:
    """Sorted positions as uint32 deltas (mostly 1: a key sampled every tick), shuffled, zlib."""
    d = np.diff(np.asarray(idx, dtype=np.int64), prepend=0).astype("<u4")
    planes = d.view(np.uint8).reshape(-1, 4).T
    return zlib.compress(np.ascontiguousarray(planes).tobytes(), 6)


def decode_indices(blob: bytes, n: int) -> npt.NDArray[np.int64]:
    raw = inflate(blob, 4 * n)
    d = np.ascontiguousarray(raw.reshape(4, n).T).view("<u4").reshape(n)
    return np.cumsum(d.astype(np.int64))
