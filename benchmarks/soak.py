"""Soak: the real dashboard with fakes (fake NVML, 8 GPUs, plus the real host samplers) at 10 Hz in
a detached 200×50 tmux for --duration seconds, logging its RSS and CPU over time.

The app runs as a child of this script (`--child`): the same `create_app`, `SamplerRunner` and
samplers as `perftui`, with the fake NVML (tests/fakes/fake_nvml.py, scenario "8gpu", real time)
injected through `SamplerOptions.nvml`. Every --every seconds the parent reads the child's VmRSS
and utime+stime from /proc and appends a CSV row (elapsed_s, rss_mb, cpu_pct over the last period).

Textual draws on stderr, so the child's stderr stays on the pane.

Memory must be flat: the store's ring buffers are allocated with np.empty, so their pages become
resident as they fill (capacity / rate seconds: 15 min at 10 Hz with the default 9000 points).
The RSS slope is therefore fitted (least squares) only after the warm-up, which defaults to the
ring fill time plus 60 s; --capacity shrinks the rings so a short run measures a steady state.

    .venv/bin/python benchmarks/soak.py                       # 1 h at 10 Hz (default)
    .venv/bin/python benchmarks/soak.py --duration 600 --capacity 1800   # the 10-minute CI-box run
    .venv/bin/python benchmarks/soak.py --duration 86400 --every 60 --log soak-24h.csv   # 24 h

For 24 h run it inside `tmux`/`nohup` so an SSH drop does not end it; the CSV is flushed per row,
so a soak cut short still leaves its log.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def trace_growth(path: Path, first: float, every: float) -> None:
    """Diagnostics (--trace FILE): the allocation sites that grew since `first` s, every `every` s."""
    import threading
    import tracemalloc

    tracemalloc.start(8)

    def loop() -> None:
        time.sleep(first)
        base = tracemalloc.take_snapshot()
        n = 0
        while True:
            time.sleep(every)
            n += 1
            stats = tracemalloc.take_snapshot().compare_to(base, "lineno")
            with path.open("a") as fh:
                traced = tracemalloc.get_traced_memory()[0] / 1e6
                fh.write(f"--- {first + n * every:.0f} s, traced {traced:.1f} MB\n")
                for st in stats[:15]:
                    fh.write(f"{st.size_diff / 1024:+9.1f} KiB {st.count_diff:+7d} {st.traceback}\n")

    threading.Thread(target=loop, daemon=True).start()


def child(interval: float, capacity: int, gpus: str, trace: Path | None, warmup: float) -> int:
    sys.path.insert(0, str(ROOT))
    if trace is not None:
        trace_growth(trace, warmup, 60.0)
    from perftui.samplers.factory import SamplerOptions, build_samplers
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore
    from perftui.ui.app import create_app
    from perftui.ui.options import AppOptions, TestKnobs
    from tests.fakes.fake_nvml import make_fake_nvml

    store = MetricStore(capacity=capacity)
    nvml = make_fake_nvml(gpus, realtime=True)
    runner = SamplerRunner(store, build_samplers(SamplerOptions(interval=interval, nvml=nvml)))
    app = create_app(store, runner, AppOptions(interval=interval), TestKnobs(start_runner=True))
    try:
        result = app.run()
    finally:
        runner.stop(timeout=0.5)
    return int(result or 0)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y) in y-units per hour."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return 0.0
    return sum((t - mt) * (y - my) for t, y in points) / den * 3600


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=3600.0, help="seconds (default 3600)")
    ap.add_argument("--interval", type=float, default=0.1, help="sampling interval (default 0.1 = 10 Hz)")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between log rows (default 10)")
    ap.add_argument("--capacity", type=int, default=9000, help="ring capacity in points (default 9000)")
    ap.add_argument("--warmup", type=float, default=None, help="seconds left out of the fit")
    ap.add_argument("--gpus", default="8gpu", help="fake NVML scenario (default 8gpu)")
    ap.add_argument("--log", type=Path, default=Path("soak.csv"), help="CSV log (default soak.csv)")
    ap.add_argument("--trace", type=Path, default=None, help="diagnostics: tracemalloc growth to FILE")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warmup = args.warmup if args.warmup is not None else args.capacity * args.interval + 60
    if args.child:
        return child(args.interval, args.capacity, args.gpus, args.trace, warmup)
    if shutil.which("tmux") is None:
        print("soak: tmux is not installed", file=sys.stderr)
        return 2
    sock = f"perftui-soak-{uuid.uuid4().hex[:8]}"
    cmd = " ".join(
        shlex.quote(a)
        for a in (
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "--interval",
            f"{args.interval:g}",
            "--capacity",
            str(args.capacity),
            "--gpus",
            args.gpus,
            "--warmup",
            f"{warmup:g}",
            *(["--trace", str(args.trace.resolve())] if args.trace else []),
        )
    )

    def tmux(*a: str) -> str:
        return subprocess.run(
            ["tmux", "-L", sock, "-f", "/dev/null", *a], capture_output=True, text=True, check=True
        ).stdout

    rows: list[tuple[float, float, float]] = []
    tmux("new-session", "-d", "-s", "soak", "-x", "200", "-y", "50", f"exec {cmd}")
    try:
        # the pane runs `exec python soak.py --child`: the pane's pid is the app's
        pid = int(tmux("display-message", "-p", "-t", "soak", "#{pane_pid}").strip())
        t0 = time.monotonic()
        prev_t, prev_ticks = t0, cpu_ticks(pid)
        with args.log.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["elapsed_s", "rss_mb", "cpu_pct"])
            while (now := time.monotonic()) - t0 < args.duration:
                time.sleep(min(args.every, max(0.0, args.duration - (now - t0))))
                t, ticks = time.monotonic(), cpu_ticks(pid)
                cpu = (ticks - prev_ticks) / CLK_TCK / (t - prev_t) * 100
                prev_t, prev_ticks = t, ticks
                row = (t - t0, rss_mb(pid), cpu)
                rows.append(row)
                w.writerow([f"{row[0]:.1f}", f"{row[1]:.2f}", f"{row[2]:.1f}"])
                fh.flush()
        screen = tmux("capture-pane", "-p", "-t", "soak")
        tmux("send-keys", "-t", "soak", "q")
        time.sleep(1.0)
    except (FileNotFoundError, ProcessLookupError):
        print("soak: the dashboard exited early", file=sys.stderr)
        return 1
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    steady = [(t, r) for t, r, _ in rows if t >= warmup] or [(t, r) for t, r, _ in rows]
    cpus = [c for t, _, c in rows if t >= min(warmup, 30)] or [c for _, _, c in rows]
    print(
        f"# soak: {args.duration:g} s, {1 / args.interval:g} Hz, fake NVML {args.gpus}, ring {args.capacity}"
    )
    start, settled, end = rows[0][1], steady[0][1], rows[-1][1]
    print(f"RSS start {start:.1f} MB, after warm-up ({warmup:g} s) {settled:.1f} MB, end {end:.1f} MB")
    print(f"RSS slope after warm-up: {slope_per_hour(steady):+.2f} MB/h over {len(steady)} rows")
    print(f"CPU % of one core: median {statistics.median(cpus):.1f}, max {max(cpus):.1f}")
    print(f"traceback on screen: {'yes' if 'Traceback' in screen else 'no'}; log: {args.log}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
