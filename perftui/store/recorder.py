"""Recorder: everything that goes into a MetricStore, written to one SQLite file.

A store listener queues each tick (cheap, on the sampler's thread); a writer thread commits a
batch every `flush_interval` (<= 1 s) into the `pending` table, and every `compact_interval`
moves the pending points into compressed per-key chunks (see `perftui.store.schema`). The file
is in WAL mode while recording, so a SIGKILL loses at most the last batch and the file still
opens; `close()` compacts, checkpoints and switches the file back to a single self-contained
file (rollback journal), ready to hand to a colleague.

Source status changes and store details (JSON, when they change) are polled at each flush; the
diagnosis timeline is pushed with `add_timeline`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import queue
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from perftui.core.proctable_record import DETAIL_KEY as PROCTABLE_KEY
from perftui.core.proctable_record import RECORD_PERIOD_S, recorded_table
from perftui.core.redact import redact_value
from perftui.core.specs import REGISTRY
from perftui.core.types import SourceStatus
from perftui.store.metric_store import MetricStore
from perftui.store.recording_meta import gpu_metadata
from perftui.store.schema import (
    APPLICATION_ID,
    DDL,
    SCHEMA_VERSION,
    VerdictLike,
    encode_floats,
    encode_indices,
)

SIDE_FILES = ("-wal", "-shm", "-journal")


class RecorderError(Exception):
    """A recording cannot be created or written; the message is one line for the user."""


def create_file(path: Path, force: bool = False) -> None:
    """Create an empty file with the user's umask; never follow a symlink over an existing file.

    An existing path is refused unless `force`; with `force` the path itself (a symlink is
    removed, not its target) and any stale SQLite side files are removed first.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise RecorderError(f"cannot create {path}: {exc.strerror}") from None
    if st is not None:
        if not force:
            raise RecorderError(f"{path} already exists (use --force to overwrite it)")
        if stat.S_ISDIR(st.st_mode):
            raise RecorderError(f"{path} is a directory")
        if not (
            stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)
        ):  # --force never unlinks a FIFO or device
            raise RecorderError(f"{path} is not a regular file: --force replaces only regular files")
        try:
            os.unlink(path)
            for suffix in SIDE_FILES:
                side = Path(f"{path}{suffix}")
                with contextlib.suppress(FileNotFoundError):
                    if not stat.S_ISDIR(os.lstat(side).st_mode):
                        os.unlink(side)
        except OSError as exc:
            raise RecorderError(f"cannot overwrite {path}: {exc.strerror}") from None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise RecorderError(f"{path} already exists (use --force to overwrite it)") from None
        raise RecorderError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)


def _describe(exc: BaseException, path: Path) -> str:
    text = str(exc)
    if isinstance(exc, sqlite3.Error) and ("full" in text or getattr(exc, "sqlite_errorcode", 0) == 13):
        return f"disk full while writing {path}; kept what was written"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"disk full while writing {path}; kept what was written"
    return f"cannot write {path}: {text}; kept what was written"


class Recorder:
    def __init__(
        self,
        path: str | os.PathLike[str],
        store: MetricStore,
        *,
        meta: Mapping[str, Any] | None = None,
        force: bool = False,
        flush_interval: float = 1.0,
        compact_interval: float = 120.0,
        details_interval: float = 5.0,
        autoflush: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.store = store
        self._meta = dict(meta or {})
        self._force = force
        self.flush_interval = min(1.0, max(0.01, flush_interval))
        self.compact_interval = compact_interval
        self.details_interval = details_interval
        self._clock = clock
        self._autoflush = autoflush
        self._queue: queue.SimpleQueue[tuple[float, Mapping[str, float]]] = queue.SimpleQueue()
        self._timeline: queue.SimpleQueue[VerdictLike] = queue.SimpleQueue()
        self._meta_updates: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._key_ids: dict[str, int] = {}
        self._buf_ts: dict[int, list[float]] = {}
        self._buf_vals: dict[int, list[float]] = {}
        self._last_status: dict[str, SourceStatus] = {}
        self._last_detail: dict[str, str] = {}
        self._last_detail_ts: dict[str, float] = {}
        self._last_compact = 0.0
        self._lock = threading.Lock()
        self.error: str | None = None
        self.ticks = 0  # store appends recorded (committed)
        self.samples = 0  # metric values recorded (committed)
        self.first_ts: float | None = None
        self.last_ts: float | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        """Create the file and start recording; RecorderError if the file cannot be made."""
        create_file(self.path, self._force)
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN")
            for stmt in DDL.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            meta = {"schema_version": SCHEMA_VERSION, **self._meta}
            conn.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [(k, json.dumps(redact_value(v, k), default=str)) for k, v in meta.items()],
            )
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise RecorderError(f"cannot write {self.path}: {exc}") from None
        self._conn = conn
        self._last_compact = time.monotonic()
        self.store.add_listener(self._on_append)
        if self._autoflush:
            self._thread = threading.Thread(target=self._run, name="perftui-recorder", daemon=True)
            self._thread.start()

    def flush(self) -> bool:
        """Commit what is queued now (a driver without the writer thread: `autoflush=False`)."""
        return self.error is None and self._conn is not None and self._flush_and_compact()

    def close(self) -> None:
        """Stop, write what is queued, compact, and leave one self-contained file."""
        self.store.remove_listener(self._on_append)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        conn = self._conn
        if conn is None:
            return
        try:
            if self.error is None:
                self._guarded(self._flush)
            if self.error is None:
                self._guarded(self._compact)
            if self.error is None:
                self._guarded(lambda: self._finish(conn))
        finally:
            self._conn = None
            conn.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def file_size(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += os.stat(f"{self.path}{suffix}").st_size
        return total

    # -- inputs from other threads ----------------------------------------
    def _on_append(self, ts: float, written: Mapping[str, float]) -> None:
        if written:
            self._queue.put((ts, written))

    def add_timeline(self, entry: VerdictLike) -> None:
        self._timeline.put(entry)

    def set_meta(self, name: str, value: Any) -> None:
        self._meta_updates.put((name, value))

    # -- writer thread -----------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            if not self._flush_and_compact():
                break

    def _compact_due(self) -> bool:
        """Compact when the buffered points span `compact_interval` of data time (or wall time)."""
        if not self._buf_ts:
            return False
        first = min(t[0] for t in self._buf_ts.values())
        span = (self.last_ts or first) - first
        return span >= self.compact_interval or time.monotonic() - self._last_compact >= self.compact_interval

    def _flush_and_compact(self) -> bool:
        if not self._guarded(self._flush):
            return False
        return not self._compact_due() or self._guarded(self._compact)

    def _guarded(self, fn: Callable[[], None]) -> bool:
        try:
            with self._lock:
                fn()
        except (sqlite3.Error, OSError) as exc:
            self.error = _describe(exc, self.path)
            self.store.remove_listener(self._on_append)
            conn = self._conn
            if conn is not None and conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            return False
        return True

    def _key_id(self, conn: sqlite3.Connection, key: str, new: dict[str, int]) -> int:
        kid = self._key_ids.get(key) or new.get(key)
        if kid is None:
            kid = len(self._key_ids) + len(new) + 1
            conn.execute(
                "INSERT INTO keys (id, name, unit) VALUES (?, ?, ?)", (kid, key, REGISTRY.unit(key).value)
            )
            new[key] = kid
        return kid

    def _flush(self) -> None:
        conn = self._conn
        if conn is None:
            return
        ticks: list[tuple[float, Mapping[str, float]]] = []
        with contextlib.suppress(queue.Empty):
            while True:
                ticks.append(self._queue.get_nowait())
        now = ticks[-1][0] if ticks else (self.last_ts if self.last_ts is not None else self._clock())
        new_keys: dict[str, int] = {}
        rows: list[tuple[float, int, float]] = []
        conn.execute("BEGIN")
        for ts, values in ticks:
            for key, value in values.items():
                rows.append((ts, self._key_id(conn, key, new_keys), value))
        if rows:
            conn.executemany("INSERT INTO pending (ts, key_id, value) VALUES (?, ?, ?)", rows)
        self._write_statuses(conn, now)
        changed_details = self._write_details(conn, now)
        self._write_timeline(conn)
        self._write_meta(conn, changed_details)
        conn.execute("COMMIT")
        # Only what is committed is counted and kept for compaction.
        self._key_ids.update(new_keys)
        for ts, kid, value in rows:
            self._buf_ts.setdefault(kid, []).append(ts)
            self._buf_vals.setdefault(kid, []).append(value)
        self.ticks += len(ticks)
        self.samples += len(rows)
        if ticks:
            t_min = min(t for t, _ in ticks)
            t_max = max(t for t, _ in ticks)
            self.first_ts = t_min if self.first_ts is None else min(self.first_ts, t_min)
            self.last_ts = t_max if self.last_ts is None else max(self.last_ts, t_max)

    def _write_statuses(self, conn: sqlite3.Connection, now: float) -> None:
        for source, st in sorted(self.store.statuses().items()):
            if self._last_status.get(source) != st:
                conn.execute(
                    "INSERT INTO status (ts, source, available, reason) VALUES (?, ?, ?, ?)",
                    (now, source, int(st.available), st.reason),
                )
                self._last_status[source] = st

    def _write_details(self, conn: sqlite3.Connection, now: float) -> set[str]:
        changed: set[str] = set()
        for name, value in sorted(self.store.details().items()):
            last_ts = self._last_detail_ts.get(name)
            period = RECORD_PERIOD_S if name == PROCTABLE_KEY else self.details_interval
            if last_ts is not None and now - last_ts < period:
                continue
            if name == PROCTABLE_KEY:
                value = recorded_table(value)
            # key order kept: it is the display order; command lines lose likely secrets
            text = json.dumps(redact_value(value, name), default=str)
            if self._last_detail.get(name) == text:
                continue
            conn.execute("INSERT INTO details (ts, name, value) VALUES (?, ?, ?)", (now, name, text))
            self._last_detail[name] = text
            self._last_detail_ts[name] = now
            changed.add(name)
        return changed

    def _write_timeline(self, conn: sqlite3.Connection) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                e = self._timeline.get_nowait()
                conn.execute(
                    "INSERT INTO timeline (ts, verdict, confidence, title, evidence) VALUES (?, ?, ?, ?, ?)",
                    (e.ts, e.verdict, e.confidence, e.title, json.dumps(list(e.evidence))),
                )

    def _write_meta(self, conn: sqlite3.Connection, changed_details: set[str]) -> None:
        updates: dict[str, Any] = {}
        with contextlib.suppress(queue.Empty):
            while True:
                name, value = self._meta_updates.get_nowait()
                updates[name] = value
        if any(n == "gpu.driver" or (n.startswith("gpu.") and n.endswith(".info")) for n in changed_details):
            updates.update(gpu_metadata(self.store.details("gpu.")))
        for name, value in updates.items():
            conn.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                (name, json.dumps(redact_value(value, name), default=str)),
            )

    def _compact(self) -> None:
        conn = self._conn
        self._last_compact = time.monotonic()
        if conn is None or not self._buf_ts:
            return
        per_key = {kid: np.asarray(t, dtype=np.float64) for kid, t in self._buf_ts.items()}
        frame_ts = np.unique(np.concatenate(list(per_key.values())))
        conn.execute("BEGIN")
        cur = conn.execute(
            "INSERT INTO frames (t0, t1, n, ts) VALUES (?, ?, ?, ?)",
            (float(frame_ts[0]), float(frame_ts[-1]), int(frame_ts.size), encode_floats(frame_ts)),
        )
        frame_id = cur.lastrowid
        rows = []
        for kid, ts in per_key.items():
            vals = np.asarray(self._buf_vals[kid], dtype=np.float64)
            order = np.argsort(ts, kind="stable")
            idx = np.searchsorted(frame_ts, ts[order])
            rows.append((kid, frame_id, int(ts.size), encode_indices(idx), encode_floats(vals[order])))
        conn.executemany("INSERT INTO chunks (key_id, frame_id, n, idx, vals) VALUES (?, ?, ?, ?, ?)", rows)
        conn.execute("DELETE FROM pending")
        conn.execute("COMMIT")
        self._buf_ts.clear()
        self._buf_vals.clear()

    def _finish(self, conn: sqlite3.Connection) -> None:
        end = self.last_ts
        conn.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            ("end_time", json.dumps(end)),
        )
        # The pending rows' pages are free now: give them back (Python's sqlite3 steps this pragma
        # once per execute, one page per step).
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        for _ in range(free):
            conn.execute("PRAGMA incremental_vacuum")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        conn.execute("PRAGMA journal_mode=DELETE").fetchall()
