"""One run of one monitor in a detached tmux of a fixed size, and everything measured on it."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitors import proc
from monitors.tmux import TmuxSession, clean_env
from monitors.tools import Tool
from monitors.workload import run_job

FRAME_TIMEOUT_S = 20.0


@dataclass
class RunResult:
    tool: str
    size: str
    first_frame_s: float | None = None  # exec -> the complete frame, with values
    first_paint_s: float | None = None  # exec -> three or more non-blank lines on the screen
    cpu_pct: float | None = None
    bytes_per_s: float | None = None
    rss_bytes: float | None = None
    pss_bytes: float | None = None
    hwm_bytes: float | None = None
    key_open_s: float | None = None  # median of the presses: key -> help screen shown
    key_close_s: float | None = None  # median: close key -> help screen gone
    # (job time with the monitor running, job time with it stopped), back to back, order alternating
    observer_pairs: list[tuple[float, float]] = field(default_factory=list)
    quit_ok: bool | None = None
    load_before: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def screen_has(screen: str, markers: tuple[str, ...]) -> bool:
    return all(m in screen for m in markers)


def poll(pred: Callable[[], bool], timeout: float, step: float = 0.005) -> float | None:
    """Seconds until `pred()` holds (polled every `step`), None after `timeout`."""
    t0 = time.perf_counter()
    while True:
        if pred():
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            return None
        time.sleep(step)


def key_latency(tm: TmuxSession, tool: Tool, presses: int) -> tuple[list[float], list[float]]:
    """Open/close the tool's help screen `presses` times; seconds from send-keys to the screen."""
    opened: list[float] = []
    closed: list[float] = []
    for _ in range(presses):
        t0 = time.perf_counter()
        tm.send(tool.help_key)
        if poll(lambda: tool.help_marker in tm.capture(), 3.0) is None:
            break
        opened.append(time.perf_counter() - t0)
        time.sleep(0.3)
        t0 = time.perf_counter()
        tm.send(tool.close_key)
        if poll(lambda: tool.help_marker not in tm.capture(), 3.0) is None:
            break
        closed.append(time.perf_counter() - t0)
        time.sleep(0.5)
    return opened, closed


def observer_pairs(pid: int, iterations: int, pairs: int) -> list[tuple[float, float]]:
    """The fixed job timed with the monitor running and with it stopped (SIGSTOP on its process
    tree: it takes no CPU, and nothing else about the machine changes), back to back, the order
    alternating so a drift in the machine's other load cancels out."""
    out: list[tuple[float, float]] = []
    for i in range(pairs):
        times: dict[bool, float] = {}
        for running in (True, False) if i % 2 == 0 else (False, True):
            pids = [] if running else proc.tree_pids(pid)
            for p in pids:
                os.kill(p, signal.SIGSTOP)
            try:
                times[running] = run_job(iterations)
            finally:
                for p in pids:
                    os.kill(p, signal.SIGCONT)
            time.sleep(0.3)
        out.append((times[True], times[False]))
    return out


def run_session(
    tool: Tool,
    width: int,
    height: int,
    *,
    duration: float,
    warmup: float,
    presses: int = 3,
    job_iterations: int | None = None,
    observer_runs: int = 3,
) -> RunResult:
    """Start `tool`, time its first complete frame, measure `duration` s of steady running (after
    `warmup` s from exec), its memory, key latency and (with `job_iterations`) the observer effect
    over `observer_runs` pairs."""
    res = RunResult(tool.name, f"{width}x{height}", load_before=os.getloadavg()[0])
    tmp = Path(tempfile.mkdtemp(prefix="perftui-bench-"))
    out, t0_file = tmp / "tty.out", tmp / "t0"
    env = clean_env()
    if tool.config_files:
        env["XDG_CONFIG_HOME"] = str(tmp / "xdg")
        for rel, content in tool.config_files:
            (tmp / "xdg" / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "xdg" / rel).write_text(content)
    tm = TmuxSession(width, height, env)
    # The pane settles and pipe-pane attaches before the exec; t0 is taken just before it.
    tm.start(f"sleep 1; date +%s.%N > {shlex.quote(str(t0_file))}; exec {tool.command}")
    try:
        tm.pipe_to(out)
        pid = tm.pane_pid()
        if poll(t0_file.exists, 5.0, 0.002) is None:
            res.error = "the pane did not start"
            return res
        painted: list[float] = []

        def complete() -> bool:
            screen = tm.capture()
            if not painted and sum(1 for ln in screen.splitlines() if ln.strip()) >= 3:
                painted.append(time.time())
            return screen_has(screen, tool.frame_markers)

        if poll(complete, FRAME_TIMEOUT_S, 0.003) is None:
            res.error = f"no complete frame within {FRAME_TIMEOUT_S:g} s: {tm.capture().strip()[:200]!r}"
            return res
        t0 = float(t0_file.read_text())
        res.first_frame_s = time.time() - t0
        if painted:
            res.first_paint_s = painted[0] - t0
        time.sleep(max(0.0, t0 + warmup - time.time()))
        c0, b0, w0 = proc.tree_cpu_seconds(pid), out.stat().st_size, time.monotonic()
        time.sleep(duration)
        c1, b1, w1 = proc.tree_cpu_seconds(pid), out.stat().st_size, time.monotonic()
        res.cpu_pct = 100.0 * (c1 - c0) / (w1 - w0)
        res.bytes_per_s = (b1 - b0) / (w1 - w0)
        mem = proc.memory(pid)
        res.rss_bytes, res.pss_bytes, res.hwm_bytes = mem.get("rss"), mem.get("pss"), mem.get("hwm")
        if presses:
            opened, closed = key_latency(tm, tool, presses)
            res.key_open_s = statistics.median(opened) if opened else None
            res.key_close_s = statistics.median(closed) if closed else None
            res.extra["key_open_all_s"], res.extra["key_close_all_s"] = opened, closed
        if job_iterations:
            time.sleep(0.5)
            res.observer_pairs = observer_pairs(pid, job_iterations, observer_runs)
        if job_iterations:
            time.sleep(1.0)  # a key sent right after SIGCONT can be dropped (seen with Textual)
        res.quit_ok = False
        for presses in (1, 2):  # a second press if the first was lost; extra says how many it took
            tm.send(tool.quit_key)
            if poll(lambda: not tm.alive(), 3.0, 0.05) is not None:
                res.quit_ok, res.extra["quit_presses"] = True, presses
                break
    finally:
        tm.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return res
