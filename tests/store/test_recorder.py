"""Recorder and reader: exact round trip, crash safety, file creation rules, bad files."""

from __future__ import annotations

import math
import os
import sqlite3
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from perftui.core.types import SourceStatus
from perftui.diagnosis.model import TimelineEntry
from perftui.store.metric_store import MetricStore
from perftui.store.reader import RecordingError, iter_ticks, load_into_store, open_recording
from perftui.store.recorder import Recorder, RecorderError, create_file
from perftui.store.schema import (
    SCHEMA_VERSION,
    VerdictRow,
    decode_floats,
    decode_indices,
    encode_floats,
    encode_indices,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
sys.path.insert(0, str(FIXTURES.parent))
from bad_files import bad_files  # noqa: E402


def _sent(points: dict[str, list[tuple[float, float]]], ts: float, values: dict[str, float | None]) -> None:
    for k, v in values.items():
        if v is not None and not math.isnan(v):
            points.setdefault(k, []).append((ts, v))


def test_float_and_index_codecs_are_bit_exact() -> None:
    rng = np.random.default_rng(3)
    vals = np.concatenate(
        [rng.normal(0, 1e6, 500), [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1.7976931348623157e308]]
    )
    back = decode_floats(encode_floats(vals), vals.size)
    assert back.view(np.uint64).tolist() == vals.view(np.uint64).tolist()
    idx = np.array([0, 1, 2, 5, 5, 9, 70000], dtype=np.int64)
    assert decode_indices(encode_indices(idx), idx.size).tolist() == idx.tolist()
    with pytest.raises(ValueError):
        decode_floats(encode_floats(vals), vals.size + 1)


def test_round_trip_is_exact_across_threads_and_compactions(tmp_path: Path) -> None:
    """What the store received from several writer threads is what is read back, bit for bit."""
    path = tmp_path / "r.sqlite"
    store = MetricStore(capacity=32)
    rec = Recorder(path, store, meta={"host": "t"}, flush_interval=0.02, compact_interval=0.05)
    rec.start()
    sent: dict[str, dict[str, list[tuple[float, float]]]] = {}

    def writer(source: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        mine: dict[str, list[tuple[float, float]]] = {}
        for i in range(300):
            ts = 1000.0 + i * 0.01 + seed * 1e-4 + float(rng.random()) * 1e-6
            values: dict[str, float | None] = {
                f"{source}.a": float(rng.normal(0, 1e9)),
                f"{source}.b": None if i % 3 == 0 else float(i),  # absent: never recorded
                f"{source}.c": math.nan if i % 5 == 0 else 1.0 / (i + 1),
            }
            if i >= 150:
                values[f"{source}.late"] = float(i) * 1.5  # a key that appears mid-run
            store.append(ts, values, source=source)
            _sent(mine, ts, values)
            if i % 50 == 0:
                threading.Event().wait(0.03)
        sent[source] = mine

    threads = [threading.Thread(target=writer, args=(f"s{n}", n)) for n in range(3)]
    for t in threads:
        t.start()
    store.set_status("s0", SourceStatus.ok())
    store.set_status("gpu", SourceStatus.unavailable("no NVIDIA driver"))
    store.set_detail("gpu.0.info", {"name": "H100", "memory_total_bytes": 80 * 2**30})
    store.set_detail("gpu.driver", {"driver": "550.54.15", "cuda": "12.4"})
    rec.add_timeline(TimelineEntry(1000.5, "io-bound", "high", "waiting on reads", ("iowait 30 %",)))
    for t in threads:
        t.join()
    rec.close()
    assert rec.error is None

    got = open_recording(path)
    expected = {k: v for per_source in sent.values() for k, v in per_source.items()}
    assert set(got.series) == set(expected)
    for key, pts in expected.items():
        ts, vals = got.series[key]
        assert ts.tolist() == [p[0] for p in pts], key
        assert vals.tolist() == [p[1] for p in pts], key
    assert got.samples == sum(len(v) for v in expected.values()) == rec.samples
    assert got.meta["host"] == "t" and got.meta["schema_version"] == SCHEMA_VERSION
    assert got.meta["gpus"] == [{"name": "H100", "memory_total_bytes": 80 * 2**30}]
    assert got.meta["gpu_driver"] == {"driver": "550.54.15", "cuda": "12.4"}
    assert got.statuses_at()["gpu"] == SourceStatus.unavailable("no NVIDIA driver")
    assert got.timeline == [VerdictRow(1000.5, "io-bound", "high", "waiting on reads", ("iowait 30 %",))]
    # A clean close leaves one self-contained file, compacted.
    assert not Path(f"{path}-wal").exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_flushed_points_are_readable_before_compaction_and_while_recording(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    store = MetricStore(capacity=8)
    rec = Recorder(path, store, autoflush=False, compact_interval=3600)
    rec.start()
    for i in range(20):
        store.append(10.0 + i, {"cpu.util": float(i)})
        assert rec.flush()
    live = open_recording(path)  # the writer is still open: WAL, pending rows only
    assert live.series["cpu.util"][1].tolist() == [float(i) for i in range(20)]
    rec.close()


def test_ticks_and_store_loading(tmp_path: Path) -> None:
    rec = open_recording(FIXTURES / "base.sqlite")
    ticks = list(iter_ticks(rec))
    assert [t.ts for t in ticks] == sorted(t.ts for t in ticks)
    assert sum(len(t.values) for t in ticks) == rec.samples
    assert ticks[0].statuses["membw"].available is False
    assert "gpu.0.info" in ticks[0].details
    store = load_into_store(rec)
    for key, (ts, vals) in rec.series.items():
        got_ts, got_vals = store.series(key)
        assert got_ts.tolist() == ts.tolist() and got_vals.tolist() == vals.tolist()
    assert store.last_ts == rec.end
    assert store.detail("gpu.0.info")["name"] == "NVIDIA H100 80GB HBM3"
    half = load_into_store(rec, until=rec.start + 10)
    assert half.last_ts == rec.start + 10


def test_slice_keeps_what_was_in_force(tmp_path: Path) -> None:
    rec = open_recording(FIXTURES / "base.sqlite")
    part = rec.slice(rec.start + 30, rec.start + 60)
    assert part.start == rec.start + 30 and part.end == rec.start + 60
    assert part.statuses_at()["membw"].available is False  # set at t=0, still in force
    assert "gpu.processes" in part.details_at()


def test_create_file_refuses_existing_and_never_follows_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "rec.sqlite"
    link.symlink_to(target)
    with pytest.raises(RecorderError, match="already exists"):
        create_file(link)
    create_file(link, force=True)  # replaces the link itself
    assert target.read_text() == "keep me"
    assert not link.is_symlink() and link.stat().st_size == 0
    old = os.umask(0o077)
    try:
        create_file(tmp_path / "umask.sqlite")
    finally:
        os.umask(old)
    assert (tmp_path / "umask.sqlite").stat().st_mode & 0o777 == 0o600
    with pytest.raises(RecorderError, match="cannot create"):
        create_file(tmp_path / "no" / "such" / "dir.sqlite")


def test_disk_full_stops_with_a_message_and_keeps_what_was_written(tmp_path: Path) -> None:
    """SQLITE_FULL, as a full disk raises it (the page limit stands in for the disk)."""
    path = tmp_path / "full.sqlite"
    store = MetricStore(capacity=8)
    rec = Recorder(path, store, autoflush=False, compact_interval=3600)
    rec.start()
    for i in range(5):
        store.append(1.0 + i, {"a": float(i)})
        assert rec.flush()
    assert rec._conn is not None
    pages = rec._conn.execute("PRAGMA page_count").fetchone()[0]
    rec._conn.execute(f"PRAGMA max_page_count={pages + 1}")
    i = 5
    while rec.flush() and i < 5000:
        store.append(1.0 + i, {f"k{j}": float(j) for j in range(200)})
        i += 1
    assert rec.error is not None and "disk full" in rec.error
    rec.close()
    got = open_recording(path)
    assert got.series["a"][1].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


# -- bad files ------------------------------------------------------------------
def test_bad_files_raise_one_clear_error(tmp_path: Path) -> None:
    for name, (path, needle) in bad_files(tmp_path).items():
        with pytest.raises(RecordingError) as info:
            open_recording(path)
        message = str(info.value)
        assert needle in message, (name, message)
        assert "\n" not in message and str(path) in message, name


def test_a_live_store_reports_like_a_file() -> None:
    """The dashboard's report of the current window: the store, seen as a Recording."""
    from perftui.store.reader import recording_from_store

    rec = open_recording(FIXTURES / "base.sqlite")
    live = recording_from_store(load_into_store(rec), rec.meta, rec.timeline, name="base.sqlite")
    assert live.keys == rec.keys and live.start == rec.start and live.end == rec.end
    for key in rec.keys:
        assert live.series[key][1].tolist() == rec.series[key][1].tolist()
    assert live.statuses_at()["membw"] == rec.statuses_at()["membw"]
    assert live.details_at() == rec.details_at()
    assert live.timeline == rec.timeline


def test_recording_the_real_gpu_sampler_on_a_fake_nvml(tmp_path: Path) -> None:
    """GPU facts (driver, CUDA, each GPU's info) reach the metadata and the report."""
    from perftui.report.build import build_report
    from perftui.report.render_md import render_markdown
    from perftui.samplers.gpu import GpuSampler
    from perftui.samplers.runner import SamplerRunner
    from tests.fakes.fake_nvml import make_fake_nvml

    fake = make_fake_nvml("h100", realtime=False, tick_seconds=1.0)
    store = MetricStore(capacity=64)
    path = tmp_path / "gpu.sqlite"
    rec = Recorder(path, store, meta={"host": "fake"}, autoflush=False)
    rec.start()
    runner = SamplerRunner(store, [GpuSampler(1.0, fake, clock=fake.now)], clock=fake.now)  # type: ignore[arg-type]
    for _ in range(6):
        runner.sample_once()
        assert rec.flush()
        fake.advance()
    runner.stop()
    rec.close()
    got = open_recording(path)
    assert got.meta["gpus"][0]["name"] and got.meta["gpu_driver"]["cuda_driver"]
    assert "gpu.0.util" in got.series and got.statuses_at()["gpu"].available
    for key in store.keys("gpu."):
        _, vals = store.series(key)
        assert got.series[key][1].tolist() == vals.tolist(), key
    md = render_markdown(build_report(got, diagnose=False))
    assert f"| GPU 0 | {got.meta['gpus'][0]['name']}" in md and "cuda_driver" in md


def test_reading_while_the_recorder_compacts_sees_no_duplicates_or_gaps(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite"
    store = MetricStore(capacity=8)
    rec = Recorder(path, store, flush_interval=0.01, compact_interval=0.0)
    rec.start()
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            store.append(float(i), {"n": float(i)})
            i += 1
            threading.Event().wait(0.001)

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(150):
            got = open_recording(path)
            if "n" in got.series:
                vals = got.series["n"][1]
                # A prefix of 0, 1, 2, ...: nothing doubled by a compaction, nothing missing.
                assert vals.tolist() == [float(i) for i in range(vals.size)]
    finally:
        stop.set()
        t.join()
        rec.close()
