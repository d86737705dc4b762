"""One pass over /proc: the rows of the process list (pid, user, CPU %, RSS, state, disk B/s, container).

Only the fields the list shows are read. CPU % and disk B/s are rates between two passes, so the
table keeps the previous pass's counters; a process that exited simply has no row in the next pass.
Start time (clock ticks since boot) lets a caller detect PID reuse between listing and attaching
(`signal_process` checks it before it signals). A field the kernel does not give (no
/proc/PID/io: no I/O accounting, or not readable for this user) is None, never a made-up 0.
"""

from __future__ import annotations

import errno
import os
import pwd
import signal
from dataclasses import dataclass, field
from pathlib import Path

from perftui.core.cgroup_names import container_of
from perftui.core.redact import redact_text
from perftui.core.sanitize import clean

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcRow:
    pid: int
    user: str
    name: str
    state: str
    start_ticks: int
    cpu_pct: float
    rss_bytes: int
    disk_bps: float | None  # read + write bytes/s; None: /proc/PID/io missing or not readable
    container: str
    cmdline: str
    gpu_mem_bytes: int | None = None  # summed over GPUs; None: not on a GPU (or no GPU sampler)
    sm_pct: float | None = None  # SM % summed over GPUs; None: no sample for it


@dataclass
class _Prev:
    cpu_ticks: int
    io_bytes: int | None
    start_ticks: int


@dataclass
class ProcTable:
    """Reads /proc under `root`; `sample(now)` returns the rows of one pass."""

    root: Path = Path("/proc")
    _prev: dict[int, _Prev] = field(default_factory=dict)
    _prev_time: float | None = None
    _users: dict[int, str] = field(default_factory=dict)
    # cmdline and container are fixed for a process's life: read once per (pid, start time)
    _ident: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)

    def _user(self, uid: int) -> str:
        if uid not in self._users:
            try:
                self._users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self._users[uid] = str(uid)
        return self._users[uid]

    def sample(self, now: float) -> list[ProcRow]:
        dt = None if self._prev_time is None else max(now - self._prev_time, 1e-6)
        prev, self._prev, self._prev_time = self._prev, {}, now
        rows: list[ProcRow] = []
        for entry in os.scandir(self.root):
            if not entry.name.isdigit():
                continue
            row = self._read(int(entry.name), Path(entry.path), prev, dt)
            if row is not None:
                rows.append(row)
        live = {(r.pid, r.start_ticks) for r in rows}
        self._ident = {k: v for k, v in self._ident.items() if k in live}
        return rows

    def _read(self, pid: int, d: Path, prev: dict[int, _Prev], dt: float | None) -> ProcRow | None:
        try:
            stat = (d / "stat").read_text()
            uid = os.stat(d).st_uid
        except OSError:
            return None  # exited between listing and reading
        lp, rp = stat.find("("), stat.rfind(")")
        name = clean(stat[lp + 1 : rp])
        f = stat[rp + 2 :].split()
        try:
            state, cpu_ticks, start, rss = f[0], int(f[11]) + int(f[12]), int(f[19]), int(f[21]) * _PAGE
        except (IndexError, ValueError):
            return None  # a stat line cut short (the process was exiting): no row this pass
        io_bytes = _io_bytes(d)
        key = (pid, start)
        if key not in self._ident:
            cmd = _text(d / "cmdline").replace("\0", " ").strip()
            ident = container_of(_text(d / "cgroup"))
            self._ident[key] = (ident.label if ident else "", clean(redact_text(cmd or f"[{name}]")))
        container, cmdline = self._ident[key]
        old = prev.get(pid)
        cpu_pct = 0.0
        disk: float | None = None if io_bytes is None else 0.0
        if dt is not None and old is not None and old.start_ticks == start:
            cpu_pct = 100.0 * (cpu_ticks - old.cpu_ticks) / _TICKS / dt
            if io_bytes is not None and old.io_bytes is not None:
                disk = max(io_bytes - old.io_bytes, 0) / dt
        self._prev[pid] = _Prev(cpu_ticks, io_bytes, start)
        return ProcRow(
            pid=pid,
            user=self._user(uid),
            name=name,
            state=state,
            start_ticks=start,
            cpu_pct=cpu_pct,
            rss_bytes=rss,
            disk_bps=disk,
            container=container,
            cmdline=cmdline,
        )


def start_ticks(pid: int, root: Path = Path("/proc")) -> int | None:
    """The start time of `pid` (clock ticks since boot), or None when it is gone: compare to detect reuse."""
    try:
        stat = (root / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2 :].split()[19])


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _io_bytes(d: Path) -> int | None:
    """read_bytes + write_bytes; None when the kernel has no I/O accounting or denies the file."""
    total, found = 0, False
    for line in _text(d / "io").splitlines():
        key, _, val = line.partition(":")
        if key in ("read_bytes", "write_bytes"):
            total += int(val)
            found = True
    return total if found else None


def signal_process(pid: int, start: int, sig: int, root: Path = Path("/proc")) -> str | None:
    """Send `sig` to `pid` if it is still the process listed (same start time).

    Returns None when sent, else the one-line reason it was not (exited, PID reused, refused).
    """
    name = signal.Signals(sig).name
    now = start_ticks(pid, root)
    if now is None:
        return f"PID {pid} has already exited: no {name} sent"
    if now != start:
        return f"PID {pid} is now a different process (the PID was reused): no {name} sent"
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return f"PID {pid} has already exited: no {name} sent"
    except PermissionError:
        owner = _owner(root / str(pid))
        return f"{name} refused for PID {pid}: not permitted (owned by {owner}; you are {_me()})"
    except OSError as exc:
        return f"{name} refused for PID {pid}: {os.strerror(exc.errno or errno.EPERM)}"
    return None


def _owner(d: Path) -> str:
    try:
        uid = os.stat(d).st_uid
    except OSError:
        return "?"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _me() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
