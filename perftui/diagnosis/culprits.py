"""Which processes a verdict is about: read from the `proctable` detail (the whole process table).

The detail is `{"ts": wall time, "rows": [{pid, user, name, state, start_ticks, cpu_pct, rss_bytes,
disk_bps, container, cmdline}, ...]}` (samplers/proctable.py's ProcRow), CPU % highest first. The
window may also carry `proctable.first`, the oldest table inside the window (window.py keeps it), from
which resident-set growth is measured. GPU culprits come from `gpu.processes` (NVML's list per GPU).
Names come from outside: they pass core/sanitize.py before they reach an evidence line.

I/O wait: a process in uninterruptible sleep (state "D") is blocked in the kernel, almost always on
storage (a read it waits for, dirty pages it must write back, a journal commit); it may move few
bytes itself (kworker and jbd2 write for others). The state is the one seen by the latest table,
or by the oldest one in the window for a process still alive: an instant, not a share of time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from perftui.core import details
from perftui.core.proctable_record import DETAIL_KEY
from perftui.core.sanitize import clean
from perftui.diagnosis.model import Culprit
from perftui.diagnosis.signals import fmt, pct
from perftui.diagnosis.window import DiagnosisWindow

MAX_CULPRITS = 4
MAX_WAITING = 3  # processes in I/O wait named after the byte movers
MIN_CPU_PCT = 10.0  # a process under a tenth of a core is not what saturates a host
MIN_DISK_BPS = 1024.0 * 1024.0  # 1 MB/s: below that a process does not load a disk
MIN_DISK_SHARE = 5.0  # % of all processes' disk traffic
MIN_GROWTH_BPS = 1024.0 * 1024.0  # resident set gaining at least 1 MB/s over the window
_PYTHON = re.compile(r"^(python[\d.]*[dmu]?|pypy[\d.]*|ipython[\d.]*|pt_main_thread|pt_data_worker)$")


@dataclass(frozen=True)
class Row:
    pid: int
    start: int
    name: str
    cpu: float
    rss: float
    disk: float
    container: str
    python: bool
    state: str = ""
    kernel: bool = False  # a kernel thread: no command line, /proc shows it as "[name]"


def is_python(name: str, cmdline: str) -> bool:
    """The process runs a Python interpreter: its name, or its program (argv[0]), says so."""
    argv0 = cmdline.split(" ", 1)[0].rsplit("/", 1)[-1]
    return bool(_PYTHON.match(name) or _PYTHON.match(argv0))


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


def _rows(table: Any) -> list[Row]:
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        return []
    out = []
    for d in table["rows"]:
        if not isinstance(d, dict) or not isinstance(d.get("pid"), int):
            continue
        name = clean(str(d.get("name") or "?"), 40)
        cmdline = str(d.get("cmdline") or "")
        out.append(
            Row(
                pid=d["pid"],
                start=int(_num(d.get("start_ticks"))),
                name=name,
                cpu=_num(d.get("cpu_pct")),
                rss=_num(d.get("rss_bytes")),
                disk=_num(d.get("disk_bps")),
                container=clean(str(d.get("container") or ""), 80),
                python=is_python(name, cmdline),
                state=str(d.get("state") or "")[:1],
                kernel=cmdline.startswith("[") and cmdline.endswith("]"),
            )
        )
    return out


def rows(w: DiagnosisWindow) -> list[Row]:
    """The latest process table in the window; [] when there is none."""
    return w.memo("proctable_rows", lambda: _rows(w.detail(DETAIL_KEY)))


def _ts(table: Any) -> float | None:
    ts = table.get("ts") if isinstance(table, dict) else None
    return float(ts) if isinstance(ts, (int, float)) else None


def _gpu_pids(w: DiagnosisWindow) -> set[int]:
    """Processes NVML lists on some GPU, as this machine's /proc numbers them."""
    return {p["container_pid"] or p["pid"] for p in details.gpu_processes(w)}


def _culprit(r: Row, share: float, resource: Any, value: float, gpus: set[int]) -> Culprit:
    return Culprit(r.pid, r.name, round(share, 1), resource, value, r.python, r.pid in gpus, r.container)


def cpu_culprits(w: DiagnosisWindow) -> tuple[Culprit, ...]:
    """The processes holding the CPU: at least a tenth of a core each, busiest first."""
    gpus = _gpu_pids(w)
    busy = sorted((r for r in rows(w) if r.cpu >= MIN_CPU_PCT), key=lambda r: -r.cpu)
    return tuple(_culprit(r, r.cpu, "cpu", r.cpu, gpus) for r in busy[:MAX_CULPRITS])


def _in_io_wait(w: DiagnosisWindow, now: list[Row]) -> list[Row]:
    """Processes in state D in the latest table, or in the window's oldest one and still alive;
    user processes before kernel threads (theirs is the work a user can change), then by bytes."""
    blocked = {(r.pid, r.start) for r in _rows(w.detail("proctable.first")) if r.state == "D"}
    waiting = [r for r in now if r.state == "D" or (r.pid, r.start) in blocked]
    return sorted(waiting, key=lambda r: (r.kernel, -r.disk, r.pid))


def disk_culprits(w: DiagnosisWindow) -> tuple[Culprit, ...]:
    """The processes reading and writing the most bytes (per second), with their share of all, then
    those in I/O wait (state D) not already named: MAX_CULPRITS + MAX_WAITING at most."""
    all_rows = rows(w)
    total = sum(r.disk for r in all_rows)
    gpus = _gpu_pids(w)
    top: list[Row] = []
    if total > 0:
        top = sorted((r for r in all_rows if r.disk >= MIN_DISK_BPS), key=lambda r: -r.disk)
        top = [r for r in top if 100 * r.disk / total >= MIN_DISK_SHARE][:MAX_CULPRITS]
    named = {r.pid for r in top}
    waiting = [r for r in _in_io_wait(w, all_rows) if r.pid not in named][:MAX_WAITING]
    share = (lambda r: 100 * r.disk / total) if total > 0 else (lambda r: 0.0)
    return tuple(
        [_culprit(r, share(r), "disk", r.disk, gpus) for r in top]
        + [_culprit(r, share(r), "iowait", r.disk, gpus) for r in waiting]
    )


def memory_culprits(w: DiagnosisWindow) -> tuple[Culprit, ...]:
    """The biggest resident sets and, when the window holds an older table, the fastest-growing ones."""
    now = rows(w)
    if not now:
        return ()
    total = w.last("mem.total_bytes") or sum(r.rss for r in now) or 1.0
    growth: dict[int, float] = {}
    first = w.detail("proctable.first")
    t0, t1 = _ts(first), _ts(w.detail(DETAIL_KEY))
    if t0 is not None and t1 is not None and t1 > t0:
        before = {(r.pid, r.start): r.rss for r in _rows(first)}
        for r in now:
            old = before.get((r.pid, r.start))
            if old is not None:
                growth[r.pid] = (r.rss - old) / (t1 - t0)
    biggest = sorted(now, key=lambda r: -r.rss)[:2]
    growing = sorted(
        (r for r in now if growth.get(r.pid, 0.0) >= MIN_GROWTH_BPS), key=lambda r: -growth[r.pid]
    )
    picked: list[Row] = []
    for r in [*growing[:2], *biggest]:
        if r not in picked:
            picked.append(r)
    gpus = _gpu_pids(w)
    out = []
    for r in picked[:MAX_CULPRITS]:
        c = _culprit(r, 100 * r.rss / total, "memory", r.rss, gpus)
        out.append(replace(c, growth=growth.get(r.pid)))
    return tuple(out)


def gpu_culprits(w: DiagnosisWindow, index: int) -> tuple[Culprit, ...]:
    """The processes NVML lists on GPU `index`, by their share of the GPU memory in use."""
    procs = [p for p in details.gpu_processes(w) if p["gpu"] == index]
    if not procs:
        return ()
    by_pid = {r.pid: r for r in rows(w)}
    info = details.proc_info(w) or {}
    total = sum(p["used_bytes"] or 0.0 for p in procs) or 1.0
    out = []
    for p in procs:
        pid = p["container_pid"] or p["pid"]
        row = by_pid.get(pid)
        if row is not None:
            name, python, container = row.name, row.python, row.container
        elif info.get("pid") == pid:
            name = clean(str(info.get("name") or "?"), 40)
            python, container = is_python(name, " ".join(info.get("cmdline", []))), ""
        else:
            name, python, container = "?", False, ""
        used = p["used_bytes"] or 0.0
        out.append(Culprit(pid, name, round(100 * used / total, 1), "gpu", used, python, True, container))
    out.sort(key=lambda c: (-c.share, -c.value))
    return tuple(out[:MAX_CULPRITS])


def attached_python(w: DiagnosisWindow) -> bool | None:
    """Whether the attached process runs Python; None when nothing is attached."""
    info = details.proc_info(w)
    if info is None or info.get("pid") is None:
        return None
    return is_python(str(info.get("name") or ""), " ".join(info.get("cmdline", [])))


def _amount(c: Culprit) -> str:
    if c.resource == "cpu":
        return pct(c.value)
    if c.resource == "disk":
        return f"{fmt('disk.x.read_bytes_per_s', c.value)} ({pct(c.share)} of all)"
    if c.resource == "memory":
        grows = f", growing {fmt('mem.swap_in_bytes_per_s', c.growth)}" if c.growth and c.growth > 0 else ""
        return f"{fmt('gpu.0.mem_used_bytes', c.value)} resident{grows}"
    return f"{fmt('gpu.0.mem_used_bytes', c.value)} of GPU memory ({pct(c.share)} of what its processes hold)"


_LONG_HEX = re.compile(r"\b([0-9a-f]{4})[0-9a-f]{4,}\b")


def short_container(label: str) -> str:
    """'docker 3f2a9c1b2d4e' -> 'docker 3f2a…', 'pod 7c1e2a3b container 3f2a…' -> 'pod 7c1e… ctr 3f2a…':
    enough to tell a box's containers apart (`docker ps | grep 3f2a`); the JSON keeps the full label."""
    return _LONG_HEX.sub(r"\1…", label).replace(" container ", " ctr ")


def _who(c: Culprit) -> str:
    tags = [
        f"PID {c.pid}",
        *(["Python"] if c.python else []),
        *([short_container(c.container)] if c.container else []),
    ]
    return f"{c.name} ({', '.join(tags)})"


def line(culprits: tuple[Culprit, ...]) -> str:
    """'sha256sum (PID 4242) 100 %, python3 (PID 4243, Python, docker 3f2a…) 98 %'. Processes in
    I/O wait follow the byte movers: 'dd (PID 4242) 38 MB/s (95 % of all); in I/O wait: jbd2 (PID 310)'."""
    movers = ", ".join(f"{_who(c)} {_amount(c)}" for c in culprits if c.resource != "iowait")
    waiting = ", ".join(_who(c) for c in culprits if c.resource == "iowait")
    wait_part = f"in I/O wait: {waiting}" if waiting else ""
    return "; ".join(p for p in (movers, wait_part) if p)
