"""Recording size, open time and report time for one hour at 1 Hz on a one-GPU box.

    .venv/bin/python benchmarks/record_bench.py [--hours H] [--keys N] [--runs R]

An hour is written at full speed through the real Recorder (driven synchronously: one flush per
tick, exactly as the writer thread commits once a second), with this machine's host keys (found by
sampling the real host sources) plus every key of one GPU. Values follow each metric's real
precision: constants, integers, psutil's 1-decimal percentages, PSI's 2 decimals, and full-precision
floats for rates and GPM activities. `--keys N` pads with extra per-core keys to reach N keys.

Side by side, the reference: the same points as one SQLite row per (tick, key) (REAL ts, INTEGER
key id, REAL value), the obvious layout. Budgets: <= 4 MB per hour, opening < 1 s, report < 2 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from perftui.core.specs import REGISTRY
from perftui.core.specs_gpu import SPECS as GPU_SPECS
from perftui.core.units import Unit
from perftui.store.metric_store import MetricStore
from perftui.store.reader import open_recording
from perftui.store.recorder import Recorder

T0 = 1767268800.0


def host_keys() -> list[str]:
    from perftui.commands.snapshot import collect

    return collect(0.3, gpu=False).keys()


def gpu_keys() -> list[str]:
    return [s.pattern.replace("*", "0") for s in GPU_SPECS]


Model = Callable[[int], float]


def model_for(key: str, rng: np.random.Generator) -> Model:
    """A generator of realistic values (and realistic precision) for one key."""
    spec = REGISTRY.get(key)
    unit = spec.unit if spec else Unit.COUNT
    name = key.rsplit(".", 1)[-1]
    walk = float(rng.uniform(10, 90))
    constant = {
        "cores", "total_bytes", "mem_total_bytes", "power_limit_w", "ecc_corrected", "ecc_uncorrected",
        "xid_events", "throttled", "clock_event_reasons", "fan_pct", "fp64_active", "mem_clock_mhz",
    }  # fmt: skip
    if name in constant or key.endswith(("errors_per_s", "drops_per_s")) or "swap" in key:
        value = float(int(rng.integers(0, 100)))
        return lambda i: value
    if key.startswith("gpu.") and unit is Unit.PERCENT and name in ("util", "mem_util", "mem_used_pct"):
        return lambda i: float(int(np.clip(walk + 15 * np.sin(i / 60) + rng.normal(0, 4), 0, 100)))
    if key.startswith("gpu.") and unit is Unit.PERCENT:  # GPM activities: full-precision floats
        return lambda i: float(np.clip(walk + 15 * np.sin(i / 60) + rng.normal(0, 4), 0, 100))
    if unit is Unit.PERCENT and key.startswith("psi."):
        return lambda i: round(max(0.0, walk / 4 + rng.normal(0, 2)), 2)
    if unit is Unit.PERCENT:  # psutil: one decimal
        return lambda i: round(float(np.clip(walk + rng.normal(0, 5), 0, 100)), 1)
    if unit in (Unit.BYTES_PER_S, Unit.PER_S, Unit.RATIO) or (spec is not None and spec.is_rate):
        scale = 10 ** float(rng.uniform(2, 9))
        return lambda i: float(abs(rng.normal(scale, scale / 5)) / (1.0 + rng.normal(0, 1e-3)))
    if unit is Unit.BYTES:
        base = float(int(rng.integers(2**30, 2**36)))
        return lambda i: float(int(base + 4096 * int(rng.integers(-1000, 1000))))
    if unit is Unit.WATTS:
        return lambda i: round(float(300 + rng.normal(0, 20)), 3)  # NVML mW -> W
    if unit in (Unit.CELSIUS, Unit.MHZ):
        return lambda i: float(int(walk * 20 + rng.integers(-3, 4)))
    return lambda i: round(float(walk + rng.normal(0, 1)), 2)


def write_hour(path: Path, keys: list[str], seconds: int, seed: int = 1) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    models = {k: model_for(k, rng) for k in keys}
    # Keys grouped by source, each source ticking on its own thread with its own jitter.
    groups: dict[str, list[str]] = {}
    for k in keys:
        spec = REGISTRY.get(k)
        groups.setdefault(spec.source if spec else "other", []).append(k)
    store = MetricStore(capacity=64)
    rec = Recorder(path, store, meta={"host": "bench"}, autoflush=False)
    rec.start()
    started = time.perf_counter()
    points = 0
    for i in range(seconds):
        for g, (_, group_keys) in enumerate(sorted(groups.items())):
            ts = T0 + i + 0.01 * g + float(rng.uniform(0, 2e-3))
            store.append(ts, {k: models[k](i) for k in group_keys})
            points += len(group_keys)
        if not rec.flush():
            raise SystemExit(f"record_bench: {rec.error}")
    rec.close()
    return time.perf_counter() - started, points


def write_reference(path: Path, source: Path) -> float:
    """The naive layout holding the same points: one row per (tick, key)."""
    rec = open_recording(source)
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE samples (ts REAL NOT NULL, key_id INTEGER NOT NULL, value REAL NOT NULL)")
    conn.execute("CREATE TABLE keys (id INTEGER PRIMARY KEY, name TEXT)")
    for kid, (key, (ts, vals)) in enumerate(sorted(rec.series.items())):
        conn.execute("INSERT INTO keys VALUES (?, ?)", (kid, key))
        conn.executemany(
            "INSERT INTO samples VALUES (?, ?, ?)",
            zip(ts.tolist(), [kid] * ts.size, vals.tolist(), strict=True),
        )
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def read_reference(path: Path) -> None:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT key_id, ts, value FROM samples ORDER BY key_id, ts").fetchall()
    arr = np.asarray(rows, dtype=np.float64)
    kids = arr[:, 0].astype(np.int64)
    np.split(arr[:, 1:], np.flatnonzero(np.diff(kids)) + 1)
    conn.close()


def timed(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--keys", type=int, default=0, help="pad to this many keys (default: as found)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv[1:])
    from perftui.report.build import build_report
    from perftui.report.render_html import render_html
    from perftui.report.render_json import render_json
    from perftui.report.render_md import render_markdown

    keys = sorted(set(host_keys()) | set(gpu_keys()))
    core = 0
    while len(keys) < args.keys:
        key = f"cpu.core.{1000 + core}.util"
        core += 1
        if key not in keys:
            keys.append(key)
    seconds = int(args.hours * 3600)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.sqlite"
        ref = Path(tmp) / "reference.sqlite"
        write_s, points = write_hour(path, keys, seconds)
        ref_write_s = write_reference(ref, path)
        size = path.stat().st_size
        ref_size = ref.stat().st_size
        per_hour = size / args.hours / 1e6
        open_s = timed(lambda: open_recording(path), args.runs)
        ref_open_s = timed(lambda: read_reference(ref), args.runs)
        rec = open_recording(path)
        build_s = timed(lambda: build_report(rec), max(1, args.runs // 2))
        rec = open_recording(path)
        report = build_report(rec)
        render_s = timed(lambda: (render_markdown(report), render_html(report), render_json(report)), 3)
        full_s = timed(lambda: render_markdown(build_report(open_recording(path))), max(1, args.runs // 2))
        no_diag_s = timed(lambda: build_report(rec, diagnose=False), 3)
    print(f"keys: {len(keys)} ({len(host_keys())} host keys of this machine + {len(gpu_keys())} of one GPU"
          f"{', padded' if args.keys else ''}); {seconds} ticks per source; {points:,} points")  # fmt: skip
    print(f"{'':34}{'perftui':>14}{'reference rows':>16}")
    print(f"{'file size per hour (MB)':34}{per_hour:>14.2f}{ref_size / args.hours / 1e6:>16.2f}   budget 4")
    print(f"{'bytes per point':34}{size / points:>14.2f}{ref_size / points:>16.2f}")
    print(f"{'write, whole run (s)':34}{write_s:>14.2f}{ref_write_s:>16.2f}")
    print(f"{'open / load all points (s, median)':34}{open_s:>14.3f}{ref_open_s:>16.3f}   budget 1")
    print(f"{'report model incl. diagnosis (s)':34}{build_s:>14.3f}")
    print(f"{'report model, no diagnosis (s)':34}{no_diag_s:>14.3f}")
    print(f"{'render md + html + json (s)':34}{render_s:>14.3f}")
    print(f"{'open + model + md, end to end (s)':34}{full_s:>14.3f}{'':>16}   budget 2")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
