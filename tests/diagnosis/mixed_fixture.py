"""A mixed cpu+io recording written with the real store and recorder (issue 24, item 1).

One core saturated by another process for the whole run (core 0 at 99 %, core 1 light); from
DD_AT s on, a `dd`-style writer stalls storage (iowait 28 %, PSI io 25 %, disk 64 % busy), as in the
issue. The live `perftui record` path (commands.record.RecordingDiagnosis: the tracker and the
timeline log) runs on every tick while it is written, so the file has a recorded timeline too.
"""

from __future__ import annotations

import math
from pathlib import Path

from perftui.commands.record import RecordingDiagnosis
from perftui.store.metric_store import MetricStore
from perftui.store.recorder import Recorder

T0 = 1_767_268_800.0  # 2026-01-01T12:00:00Z
SECONDS = 60
DD_AT = 20


def values_at(t: int) -> dict[str, float]:
    """The host's figures `t` seconds in: a small deterministic wobble, as real samples have."""
    wobble = math.sin(t * 1.7)
    dd = t >= DD_AT
    return {
        "cpu.cores": 2.0,
        "cpu.util": 55.0 + 2 * wobble,
        "cpu.core.0.util": 99.0 + 0.5 * wobble,
        "cpu.core.1.util": 11.0 + 2 * wobble,
        "cpu.core_max.util": 99.0 + 0.5 * wobble,
        "cpu.iowait": (28.0 + wobble) if dd else 0.4,
        "psi.cpu.some_rate": 3.0,
        "psi.io.some_rate": (25.0 + wobble) if dd else 0.3,
        "psi.memory.some_rate": 0.0,
        "disk.sda.busy_pct": (64.0 + 2 * wobble) if dd else 1.0,
        "disk.sda.write_bytes_per_s": 180e6 if dd else 1e5,
        "disk.sda.await_s": 0.004,
    }


def write_mixed(path: Path) -> Path:
    """Write the recording at `path` (1 Hz, SECONDS ticks); returns the path."""
    store = MetricStore(capacity=256)
    recorder = Recorder(path, store, meta={"host": "mixed-fixture", "interval_s": 1.0}, flush_interval=60.0)
    recorder.start()
    live = RecordingDiagnosis(recorder)
    try:
        for t in range(SECONDS):
            store.append(T0 + t, values_at(t))
            live.step(store)
    finally:
        recorder.close()
    return path
