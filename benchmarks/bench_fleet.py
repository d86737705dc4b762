"""Fleet cost: the fleet screen over 100 fake hosts, and `perftui stream` against `perftui record`.

    .venv/bin/python benchmarks/bench_fleet.py [--hosts 100] [--interval 2] [--seconds 60] [--runs 2]

1. `perftui fleet` runs in a detached tmux pane at 200×50 with `--ssh` pointing at a fake ssh: a
   shell loop that prints one realistic stream line (this machine's host keys from a real
   `perftui stream` line, plus 8 GPUs with every GPU key, a verdict) every interval. perftui's own
   CPU (the pane's process) is measured apart from the fake ssh processes (shell, cat, sleep).
   Budget: <= 2 % of one core for perftui itself.
2. `perftui stream` (stdout to /dev/null, stdin held open) and `perftui record` at the same interval,
   alternating, each measured over `--seconds` after a warm-up: the stream must cost no more.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitors.proc import cpu_seconds, tree_pids
from monitors.tmux import TmuxSession

from perftui.core.specs_gpu import SPECS as GPU_SPECS
from perftui.fleet.protocol import Verdict, encode_tick

PY = sys.executable
WARMUP_S = 8.0


def host_sample() -> tuple[dict[str, float], dict[str, Any]]:
    """This machine's host values and facts, from one real `perftui stream` line."""
    out = subprocess.run(
        [PY, "-m", "perftui", "stream", "--count", "1", "--no-gpu", "--ignore-stdin", "--interval", "0.5"],
        capture_output=True, text=True, timeout=60, check=True, stdin=subprocess.DEVNULL,
    ).stdout  # fmt: skip
    first = json.loads(out.splitlines()[0])
    return {k: float(v) for k, v in first["values"].items()}, first["host"]


def stream_line(
    sample: tuple[dict[str, float], dict[str, Any]], seq: int, known: set[str], gpus: int = 8
) -> str:
    """A line as an 8-GPU host sends it: the first carries the host facts and every unit."""
    values = dict(sample[0])
    for g in range(gpus):
        for i, spec in enumerate(GPU_SPECS):
            values[spec.pattern.replace("*", str(g))] = float(10 + (i * 7 + g + 5 * seq) % 80)
    host = dict(sample[1], gpus=[{"index": g, "name": "NVIDIA H100 80GB HBM3"} for g in range(gpus)])
    verdict = Verdict("memory-bound", "high", "GPU 0 memory-bound", "DRAM bandwidth 86 % of peak")
    return encode_tick(
        seq, time.time(), 2.0, values, {"gpu": (True, None)}, verdict, host if seq == 0 else None, known
    )


def fake_ssh(root: Path, first: str, lines: list[str], interval: float) -> Path:
    """A fake ssh printing `first`, then `lines` in turn, one per interval (values change each tick)."""
    (root / "first.json").write_text(first + "\n")
    for i, line in enumerate(lines):
        (root / f"line{i}.json").write_text(line + "\n")
    script = root / "ssh"
    script.write_text(
        f"#!/bin/sh\ncat {root}/first.json\ni=0\nwhile :; do sleep {interval:g}; cat {root}/line$i.json; "
        f"i=$(( (i + 1) % {len(lines)} )); done\n"
    )
    script.chmod(0o755)
    return script


def bench_fleet(hosts: int, interval: float, seconds: float, size: tuple[int, int]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        known: set[str] = set()
        sample = host_sample()
        first = stream_line(sample, 0, known)
        line = stream_line(sample, 1, known)
        ssh = fake_ssh(root, first, [line, stream_line(sample, 2, known)], interval)
        names = " ".join(f"host{i:03d}" for i in range(hosts))
        session = TmuxSession(*size)
        session.start(f"exec {PY} -m perftui fleet --ssh {ssh} --interval {interval:g} {names}")
        fakes: list[int] = []
        try:
            pid = session.pane_pid()
            time.sleep(WARMUP_S)
            screen = session.capture()
            fakes = [p for p in tree_pids(pid) if p != pid]
            own0, t0 = cpu_seconds(pid), time.monotonic()
            ssh0 = sum(_cpu(p) for p in fakes)
            time.sleep(seconds)
            own1, t1 = cpu_seconds(pid), time.monotonic()
            ssh1 = sum(_cpu(p) for p in fakes)
            ok = f"{hosts} hosts: {hosts} up" in screen
            session.send("q")
            time.sleep(2)
        finally:
            session.kill()
            for p in fakes:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
        wall = t1 - t0
        return {
            "perftui_pct": 100 * (own1 - own0) / wall,
            "ssh_fakes_pct": 100 * (ssh1 - ssh0) / wall,
            "line_bytes": float(len(line)),
            "first_line_bytes": float(len(first)),
            "all_up": float(ok),
        }


def _cpu(pid: int) -> float:
    try:
        return cpu_seconds(pid, children=True)
    except (OSError, IndexError, ValueError):
        return 0.0


def bench_headless(cmd: list[str], seconds: float) -> float:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARMUP_S)
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 100 * (c1 - c0) / (t1 - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--height", type=int, default=50)
    ap.add_argument("--skip-headless", action="store_true")
    args = ap.parse_args()
    fleet = bench_fleet(args.hosts, args.interval, args.seconds, (args.width, args.height))
    print(
        f"fleet {args.hosts} hosts @ {args.interval:g} s, {args.width}x{args.height}: "
        f"perftui {fleet['perftui_pct']:.2f} % of a core (budget 2 %), "
        f"fake ssh processes {fleet['ssh_fakes_pct']:.2f} %, "
        f"line {fleet['line_bytes']:.0f} B (first {fleet['first_line_bytes']:.0f} B), "
        f"all up on screen: {bool(fleet['all_up'])}"
    )
    if args.skip_headless:
        return 0
    stream: list[float] = []
    record: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            stream.append(bench_headless([PY, "-m", "perftui", "stream", "--interval", "1"], args.seconds))
            rec = Path(tmp) / f"r{i}.sqlite"
            record.append(
                bench_headless(
                    [PY, "-m", "perftui", "record", "--interval", "1", "-o", str(rec)], args.seconds
                )
            )
    runs_s = [round(x, 2) for x in stream]
    runs_r = [round(x, 2) for x in record]
    print(f"perftui stream --interval 1: {statistics.median(stream):.2f} % of a core {runs_s}")
    print(f"perftui record --interval 1: {statistics.median(record):.2f} % of a core {runs_r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
