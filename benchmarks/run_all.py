"""Every perftui cost, side by side with btop, htop and Glances (nvitop where it runs), in one run.

Each monitor runs alone in a detached tmux (80×24 and 200×50), tools alternating within each
round. Per run: exec -> first complete frame (all of the tool's frame markers on the screen),
CPU % of one core and bytes/s written to the terminal over the steady span, RSS and PSS
(/proc/PID/smaps_rollup), key-press -> screen latency (open the help screen with tmux send-keys,
poll capture-pane), and the observer effect (a fixed job with one busy process per CPU, timed with
the monitor running and right after without it). Then the headless costs: `perftui record` CPU and
bytes per hour, `report` and replay-load time on a synthetic one-hour recording, and the slowdown
of a target that `perftui record --pid` attaches to with stack sampling.

    .venv/bin/python benchmarks/run_all.py [--quick] [--runs N] [--out DIR] [--tools a,b]

Glances and nvitop are installed with pip into a venv of their own (--extras-venv), never the
project's; `--no-install` skips that. Results: DIR/latest.json and DIR/latest.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from monitors import headless, results, tools
from monitors.session import RunResult, run_session
from monitors.workload import calibrate

HERE = Path(__file__).resolve().parent
SIZES = ((200, 50), (80, 24))
ATTACH_PHASE_S = 20.0  # on/off phases of the attach job


def compile_bytecode() -> list[str]:
    """Bytecode for perftui and this interpreter's packages, as a pip install leaves them, so that
    no measured start compiles source (with PYTHONDONTWRITEBYTECODE in the caller's environment,
    every start would). Returns the directories compiled."""
    import compileall
    import site

    import perftui

    dirs = [Path(perftui.__file__).parent, *(Path(p) for p in site.getsitepackages())]
    for d in dirs:
        compileall.compile_dir(d, quiet=2, workers=0)
    return [str(d) for d in dirs]


def ensure_extras(venv: Path, install: bool) -> None:
    if (venv / "bin" / "glances").exists() or not install:
        return
    print(f"# installing glances and nvitop into {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    r = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "glances", "nvitop"], capture_output=True, text=True
    )
    if r.returncode != 0:
        print(f"# pip install glances nvitop failed: {r.stderr.strip()[-200:]}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 run, 10 s spans, one size: a smoke run")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and size (default 3)")
    ap.add_argument("--duration", type=float, default=60.0, help="steady span at 200×50, s (default 60)")
    ap.add_argument("--small-duration", type=float, default=None, help="span at 80×24 (default: --duration)")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds after exec not measured (default 5)")
    ap.add_argument("--tools", default="", help="comma-separated names (default: all available)")
    ap.add_argument("--sizes", default="200x50,80x24", help="tmux sizes (default 200x50,80x24)")
    ap.add_argument("--presses", type=int, default=3, help="help-screen key presses per run (default 3)")
    ap.add_argument("--observer-pairs", type=int, default=3, help="on/off job pairs per run (default 3)")
    ap.add_argument("--no-observer", action="store_true", help="skip the observer-effect job")
    ap.add_argument("--no-headless", action="store_true", help="skip record/report/replay/attach")
    ap.add_argument("--record-s", type=float, default=30.0, help="perftui record span, s (default 30)")
    ap.add_argument("--attach-pairs", type=int, default=4, help="on/off pairs for attach (default 4)")
    ap.add_argument("--hour-s", type=int, default=3600, help="synthetic recording length, s (default 3600)")
    ap.add_argument("--extras-venv", type=Path, default=tools.EXTRA_VENV, help="venv for glances/nvitop")
    ap.add_argument("--no-install", action="store_true", help="do not pip-install glances/nvitop")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="output folder (default results/)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.duration, args.warmup, args.presses, args.observer_pairs = 1, 10.0, 3.0, 2, 1
        args.record_s, args.attach_pairs, args.hour_s = 10.0, 2, 600
        args.small_duration = 10.0
    if args.small_duration is None:
        args.small_duration = args.duration
    return args


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        w, _, h = part.strip().lower().partition("x")
        if not (w.isdigit() and h.isdigit()):
            raise ValueError(f"bad size {part!r}: use WIDTHxHEIGHT")
        out.append((int(w), int(h)))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A terminated run still kills its tmux servers (the sessions' `finally` blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("tmux") is None:
        print("run_all: tmux is not installed", file=sys.stderr)
        return 2
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as e:
        print(f"run_all: {e}", file=sys.stderr)
        return 2
    ensure_extras(args.extras_venv, not args.no_install)
    compile_bytecode()
    chosen = [
        t for t in tools.all_tools(args.extras_venv) if not args.tools or t.name in args.tools.split(",")
    ]
    missing = [t.name for t in chosen if not t.available()]
    chosen = [t for t in chosen if t.available()]
    if not chosen:
        print("run_all: none of the tools is available", file=sys.stderr)
        return 2
    meta: dict[str, Any] = {
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([".venv/bin/python", "benchmarks/run_all.py", *(argv or sys.argv[1:])]),
        "machine": results.machine(),
        "runs": args.runs,
        "duration_s": args.duration,
        "small_duration_s": args.small_duration,
        "warmup_s": args.warmup,
        "tools": [t.name for t in chosen],
        # commands as a reader would type them from the checkout: no path of this machine's tree
        "tool_commands": {t.name: t.command.replace(f"{HERE.parent}/", "") for t in chosen},
        "missing": missing,
        "nvitop": tools.nvitop_status(args.extras_venv),
        "load_before": os.getloadavg()[0],
        "bytecode": "precompiled; PYTHONDONTWRITEBYTECODE not passed on",
    }
    print(f"# {meta['machine']['cpus']} CPUs, load {meta['load_before']:.2f}; tools {meta['tools']}; "
          f"missing {missing}; nvitop: {meta['nvitop']}", flush=True)  # fmt: skip
    job = None if args.no_observer else calibrate(1.0)
    meta["observer_job_iterations"] = job
    runs: list[RunResult] = []
    started = time.monotonic()
    for rnd in range(args.runs):
        for w, h in sizes:
            span = args.duration if (w, h) == SIZES[0] else args.small_duration
            order = chosen if rnd % 2 == 0 else list(reversed(chosen))  # alternate who goes first
            for tool in order:
                r = run_session(
                    tool,
                    w,
                    h,
                    duration=span,
                    warmup=args.warmup,
                    presses=args.presses,
                    job_iterations=job,
                    observer_runs=args.observer_pairs,
                )
                runs.append(r)
                print(
                    f"[{time.monotonic() - started:6.0f} s] round {rnd + 1} {results.progress(r)}", flush=True
                )
    hl: dict[str, Any] = {}
    if not args.no_headless:
        hl["record"] = [headless.record_cost(args.record_s) for _ in range(max(1, min(args.runs, 2)))]
        short = headless.record_cost(args.record_s / 4)
        hl["record_short"] = short
        hl["record_bytes_per_hour"] = [headless.bytes_per_hour(short, r) for r in hl["record"]]
        print(f"# record: {hl['record']}", flush=True)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="perftui-bench-") as tmp:
            path = Path(tmp) / "hour.sqlite"
            hl["hour"] = headless.synthetic_hour(path, args.hour_s)
            hl["open"] = headless.open_times(path, max(3, args.runs))
        print(f"# hour: {hl['hour']}; open: {hl['open']}", flush=True)
        try:
            # 20 s phases: two of the stack sampler's 10 s slices (a py-spy start and its dumps
            # recur every slice), so every "on" phase sees the same mix of its work
            hl["attach"] = headless.attach_slowdown(
                args.attach_pairs, ATTACH_PHASE_S if not args.quick else 2.0
            )
        except Exception as e:  # py-spy missing or no ptrace permission: a result, not a crash
            hl["attach"] = {"error": f"{type(e).__name__}: {e}"}
        print(f"# attach: {hl['attach']}", flush=True)
    meta["load_after"] = os.getloadavg()[0]
    meta["wall_s"] = time.monotonic() - started
    results.write(args.out, meta, runs, hl)
    print((args.out / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
