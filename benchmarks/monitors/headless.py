"""Headless costs: `perftui record` (CPU, bytes per hour), `report` and replay-load open time on a
synthetic one-hour recording (record_bench's generator), and the slowdown of a target that
`perftui record --pid` attaches to with stack sampling (stacks_bench's instrumented target)."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from dashboard_bench import PERFTUI
from record_bench import gpu_keys, host_keys, write_hour
from stacks_bench import Target

from monitors import proc


def record_cost(duration: float, warmup: float = 3.0, interval: float = 1.0) -> dict[str, Any]:
    """`perftui record --duration` for warmup + duration s: CPU % of one core over the steady part,
    memory, and the file's size once closed."""
    with tempfile.TemporaryDirectory(prefix="perftui-bench-") as tmp:
        out = Path(tmp) / "rec.sqlite"
        total = warmup + duration
        p = subprocess.Popen(
            [
                str(PERFTUI),
                "record",
                "-o",
                str(out),
                "--interval",
                f"{interval:g}",
                "--duration",
                f"{total:g}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(warmup)
            if p.poll() is not None:
                return {
                    "error": f"record exited {p.returncode}: {(p.stderr.read() if p.stderr else '')[:200]}"
                }
            c0, w0 = proc.cpu_seconds(p.pid, children=True), time.monotonic()
            time.sleep(max(0.5, duration - 1.0))  # stop before it exits
            c1, w1 = proc.cpu_seconds(p.pid, children=True), time.monotonic()
            mem = proc.memory(p.pid)
            p.wait(total + 30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        final = out.stat().st_size if out.exists() else 0
    return {
        "cpu_pct": 100.0 * (c1 - c0) / (w1 - w0),
        "file_bytes": final,
        "recorded_s": total,
        "rss_bytes": mem.get("rss"),
        "pss_bytes": mem.get("pss"),
        "exit_code": p.returncode,
    }


def bytes_per_hour(short: dict[str, Any], long: dict[str, Any]) -> float | None:
    """File growth per hour from two recordings of different lengths (the slope: the schema and
    the file's fixed pages cancel out)."""
    ds = float(long.get("recorded_s", 0)) - float(short.get("recorded_s", 0))
    if ds <= 0 or "file_bytes" not in short or "file_bytes" not in long:
        return None
    return (float(long["file_bytes"]) - float(short["file_bytes"])) / ds * 3600.0


def synthetic_hour(path: Path, seconds: int = 3600) -> dict[str, Any]:
    keys = sorted(set(host_keys()) | set(gpu_keys()))
    write_s, points = write_hour(path, keys, seconds)
    return {"keys": len(keys), "points": points, "seconds": seconds, "bytes": path.stat().st_size,
            "write_s": write_s}  # fmt: skip


def _timed_cli(args: list[str], runs: int) -> tuple[list[float], int]:
    times, rc = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run([str(PERFTUI), *args], capture_output=True)
        times.append(time.perf_counter() - t)
        rc = rc or r.returncode
    return times, rc


REPLAY_LOAD = (
    "import sys, time; t = time.perf_counter(); "
    "from perftui.store.reader import open_recording, load_into_store; "
    "s = load_into_store(open_recording(sys.argv[1])); print(time.perf_counter() - t)"
)


def open_times(path: Path, runs: int) -> dict[str, Any]:
    """`perftui report FILE` end to end (a fresh process: start-up included), and the replay load
    (open the file and put every point into a store, as replay does) in a fresh interpreter."""
    report_s, rc = _timed_cli(["report", str(path), "--format", "md", "-o", os.devnull], runs)
    load_s: list[float] = []
    load_wall_s: list[float] = []
    import sys

    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", REPLAY_LOAD, str(path)], capture_output=True, text=True)
        load_wall_s.append(time.perf_counter() - t)
        if r.returncode == 0:
            load_s.append(float(r.stdout.strip()))
    return {"report_s": report_s, "report_rc": rc, "replay_load_s": load_s, "replay_load_wall_s": load_wall_s}


def attach_slowdown(pairs: int, phase_s: float, settle_s: float = 3.0) -> dict[str, Any]:
    """Slowdown of a CPU-bound Python target while `perftui record --pid` samples it (stacks
    included), against the phases without; the target pinned to the last CPU as in stacks_bench."""
    t = Target()
    ncpu = os.cpu_count() or 1
    if ncpu >= 2:
        os.sched_setaffinity(t.pid, {ncpu - 1})
    others = set(range(ncpu - 1)) or {0}

    def measure() -> tuple[float, float, float]:
        n0, w0, r0, s0 = t.count(), time.monotonic(), t.cpu_ns(), t.stalled_ns()
        time.sleep(phase_s)
        n1, w1, r1, s1 = t.count(), time.monotonic(), t.cpu_ns(), t.stalled_ns()
        return (n1 - n0) / (w1 - w0), (n1 - n0) / max(1e-9, (r1 - r0) / 1e9), (s1 - s0) / 1e9 / (w1 - w0)

    wall: list[float] = []
    per_cpu: list[float] = []
    stalled: list[float] = []
    cost: list[float] = []
    try:
        off = measure()
        with tempfile.TemporaryDirectory(prefix="perftui-bench-") as tmp:
            for i in range(pairs):
                out = Path(tmp) / f"a{i}.sqlite"
                p = subprocess.Popen(
                    [str(PERFTUI), "record", "--pid", str(t.pid), "-o", str(out)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                os.sched_setaffinity(p.pid, others)
                time.sleep(settle_s)
                c0, w0 = proc.tree_cpu_seconds(p.pid), time.monotonic()
                on = measure()
                cost.append(100.0 * (proc.tree_cpu_seconds(p.pid) - c0) / (time.monotonic() - w0))
                p.send_signal(signal.SIGINT)
                p.wait(10)
                time.sleep(0.5)
                nxt = measure()
                wall.append(100.0 * (1 - on[0] / ((off[0] + nxt[0]) / 2)))
                per_cpu.append(100.0 * (1 - on[1] / ((off[1] + nxt[1]) / 2)))
                stalled.append(100.0 * (on[2] - (off[2] + nxt[2]) / 2))
                off = nxt
    finally:
        t.stop()
    return {
        "slowdown_wall_pct": wall,
        "slowdown_per_cpu_s_pct": per_cpu,
        "stalled_extra_pct": stalled,
        "perftui_cpu_pct": cost,
        "median_wall_pct": statistics.median(wall) if wall else None,
    }
