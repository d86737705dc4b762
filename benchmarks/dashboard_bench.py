"""Dashboard cost, side by side with btop and htop: CPU, terminal bytes, RSS, first frame.

Each tool runs alone in a detached 200×50 tmux (its own socket) for --duration seconds; tmux
pipe-pane copies everything the tool writes to the terminal into a file. Measured per run:
- CPU % of one core: utime+stime from /proc/<pid>/stat over the steady part (after --warmup s);
- bytes/s written to the terminal over the same span (size of the pipe-pane file);
- RSS (VmRSS) at the end, and VmHWM (peak);
- first frame: seconds from just before exec to the first 2 KB of output (a 200×50 frame is
  larger than that, so it is the first screenful, not a cursor query).
Rounds interleave the tools; the table shows medians of --runs rounds.

    .venv/bin/python benchmarks/dashboard_bench.py [--duration 60] [--runs 3] [--tools perftui,btop,htop]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERFTUI = Path(sys.executable).parent / "perftui"
CLK_TCK = os.sysconf("SC_CLK_TCK")
FRAME_BYTES = 2048


@dataclass
class Result:
    tool: str
    cpu_pct: float
    bytes_per_s: float
    rss_mb: float
    hwm_mb: float
    first_frame_s: float | None


def tool_command(tool: str, interval: float) -> str:
    if tool == "perftui":
        return f"{shlex.quote(str(PERFTUI))} --interval {interval:g}"
    return tool  # btop and htop at their defaults (btop 2 s, htop 1.5 s)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def status_kb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def run_once(tool: str, duration: float, warmup: float, interval: float, env: dict[str, str]) -> Result:
    sock = f"bench-{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="perftui-bench-"))
    out, t0_file = tmp / "tty.out", tmp / "t0"

    def tmux(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", sock, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout

    # The pane settles (and pipe-pane attaches) before the tool is exec'd; t0 is taken just before exec.
    script = f"sleep 1; date +%s.%N > {t0_file}; exec {tool_command(tool, interval)}"
    try:
        tmux("new-session", "-d", "-s", "b", "-x", "200", "-y", "50", script)
        tmux("pipe-pane", "-o", "-t", "b", f"cat >> {out}")
        pid = int(tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip())
        first: float | None = None
        deadline = time.time() + 15
        while first is None and time.time() < deadline:
            if out.exists() and out.stat().st_size >= FRAME_BYTES and t0_file.exists():
                first = time.time() - float(t0_file.read_text())
                break
            time.sleep(0.005)
        start_wall = float(t0_file.read_text()) if t0_file.exists() else time.time()
        time.sleep(max(0.0, start_wall + warmup - time.time()))
        c0, b0, w0 = cpu_ticks(pid), out.stat().st_size, time.time()
        time.sleep(max(0.0, start_wall + duration - time.time()))
        c1, b1, w1 = cpu_ticks(pid), out.stat().st_size, time.time()
        rss, hwm = status_kb(pid, "VmRSS") / 1024, status_kb(pid, "VmHWM") / 1024
        tmux("send-keys", "-t", "b", "q")
        time.sleep(0.5)
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    span = w1 - w0
    return Result(tool, 100 * (c1 - c0) / CLK_TCK / span, (b1 - b0) / span, rss, hwm, first)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per run (default 60)")
    ap.add_argument(
        "--warmup", type=float, default=5.0, help="seconds excluded from CPU and bytes (default 5)"
    )
    ap.add_argument("--runs", type=int, default=3, help="rounds; medians are reported (default 3)")
    ap.add_argument("--interval", type=float, default=1.0, help="perftui sampling interval (default 1)")
    ap.add_argument(
        "--tools", default="perftui,btop,htop", help="comma-separated (default perftui,btop,htop)"
    )
    ap.add_argument("--colorterm", default="truecolor", help="COLORTERM for every tool ('' to unset)")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        print("dashboard_bench: tmux is not installed", file=sys.stderr)
        return 2
    tools = [t for t in args.tools.split(",") if t == "perftui" or shutil.which(t)]
    skipped = [t for t in args.tools.split(",") if t not in tools]
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "COLORTERM")}
    if args.colorterm:
        env["COLORTERM"] = args.colorterm
    print(
        f"# {args.runs} rounds × {args.duration:g} s, 200×50 tmux, "
        f"CPU/bytes after {args.warmup:g} s warm-up; "
        f"perftui --interval {args.interval:g}; COLORTERM={args.colorterm or '(unset)'}; "
        f"load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if skipped:
        print(f"# not installed, skipped: {', '.join(skipped)}", flush=True)
    results: dict[str, list[Result]] = {t: [] for t in tools}
    for r in range(args.runs):
        for tool in tools:
            res = run_once(tool, args.duration, args.warmup, args.interval, env)
            results[tool].append(res)
            ff = "n/a" if res.first_frame_s is None else f"{res.first_frame_s:.3f}"
            print(
                f"round {r + 1} {tool:<8} cpu {res.cpu_pct:6.2f} %  {res.bytes_per_s / 1000:8.2f} kB/s  "
                f"rss {res.rss_mb:6.1f} MB (peak {res.hwm_mb:6.1f})  first frame {ff} s",
                flush=True,
            )
    print()
    print("| tool | CPU % of one core | terminal kB/s | RSS MB (peak) | first frame s |")
    print("|---|---:|---:|---:|---:|")
    for tool, rs in results.items():
        ff = [x.first_frame_s for x in rs if x.first_frame_s is not None]
        print(
            f"| {tool} | {median([x.cpu_pct for x in rs]):.2f} | "
            f"{median([x.bytes_per_s for x in rs]) / 1000:.2f} | "
            f"{median([x.rss_mb for x in rs]):.1f} ({median([x.hwm_mb for x in rs]):.1f}) | "
            f"{median(ff):.3f} |"
        )
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (other work on the machine inflates CPU %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
