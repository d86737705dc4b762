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
from perftui.samplers.procfs import CLK_TCK

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcRow:
    """One process in the table: who and what it is, its CPU, memory and disk rates, its GPU use."""

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
    """A process as the previous pass saw it: its counters, for rates, and its row."""

    cpu_ticks: int
    io_bytes: int | None
    start_ticks: int
    io_moved: bool = True  # its I/O counters changed at that pass (or it was new): read them again
    row: ProcRow | None = None  # the row it had then: shown again as is when nothing in it moved


@dataclass
class ProcTable:
    """Reads /proc under `root`; `sample(now)` returns the rows of one pass."""

    root: Path = Path("/proc")
    _prev: dict[int, _Prev] = field(default_factory=dict)
    _prev_time: float | None = None
    _users: dict[int, str] = field(default_factory=dict)
    # user, cmdline and container: fixed for a process's life (a setuid after exec aside): read once
    # per (pid, start time)
    _ident: dict[tuple[int, int], tuple[str, str, str]] = field(default_factory=dict)
    _no_io: set[tuple[int, int]] = field(default_factory=set)  # /proc/PID/io denied or absent
    _names: dict[bytes, str] = field(default_factory=dict)  # raw comm -> cleaned

    def _user(self, uid: int) -> str:
        if uid not in self._users:
            try:
                self._users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self._users[uid] = str(uid)
        return self._users[uid]

    def sample(self, now: float) -> list[ProcRow]:
        return self._pass(now, rows=True)

    def prime(self, now: float) -> None:
        """Only the counters the next pass's rates start from: no user, command line or container
        (a dashboard primes while it starts, and those reads are most of a first pass)."""
        self._pass(now, rows=False)

    def _pass(self, now: float, *, rows: bool) -> list[ProcRow]:
        dt = None if self._prev_time is None else max(now - self._prev_time, 1e-6)
        prev, self._prev, self._prev_time = self._prev, {}, now
        out: list[ProcRow] = []
        root = str(self.root)
        for entry in os.scandir(root):
            name = entry.name
            if not name.isdigit():
                continue
            row = self._read(int(name), f"{root}/{name}/", prev, dt, rows)
            if row is not None:
                out.append(row)
        if not rows:
            return out
        live = {(r.pid, r.start_ticks) for r in out}
        self._ident = {k: v for k, v in self._ident.items() if k in live}
        self._no_io &= live
        if len(self._names) > 4 * len(out) + 64:
            self._names.clear()
        return out

    def _read(
        self, pid: int, d: str, prev: dict[int, _Prev], dt: float | None, rows: bool = True
    ) -> ProcRow | None:
        # Plain fds and bytes: pathlib and text decoding were most of a pass (issue 20: <= 5 ms / 500)
        try:
            fd = os.open(d + "stat", os.O_RDONLY)
        except OSError:
            return None  # exited between listing and reading
        try:
            stat = os.read(fd, 2048)
        except OSError:
            return None
        finally:
            os.close(fd)
        lp, rp = stat.find(b"("), stat.rfind(b")")
        raw = stat[lp + 1 : rp]
        name = self._names.get(raw)
        if name is None:
            name = self._names[raw] = clean(raw.decode(errors="replace"))
        f = stat[rp + 2 :].split(None, 22)  # fields 3..24 are enough: the rest is never read
        try:
            state, cpu_ticks, start, rss = (
                f[0].decode(),
                int(f[11]) + int(f[12]),
                int(f[19]),
                int(f[21]) * _PAGE,
            )
        except (IndexError, ValueError):
            return None  # a stat line cut short (the process was exiting): no row this pass
        key = (pid, start)
        old = prev.get(pid)
        if old is not None and old.start_ticks != start:
            old = None  # the PID was reused: nothing carries over
        if key in self._no_io:
            io_bytes = None
        elif (
            old is not None
            and old.io_bytes is not None
            and not old.io_moved
            and old.cpu_ticks == cpu_ticks
            and state in ("S", "I")
        ):
            # Asleep, no CPU time since the last pass and no I/O then either: it cannot have issued
            # any (a process in D, or one that ran at all, is read). Most of a box's processes are
            # such sleepers: skipping their /proc/PID/io is a third of the pass (issue 20: <= 5 ms).
            io_bytes = old.io_bytes
        else:
            io_bytes = _io_bytes(d)
            if io_bytes is None:
                self._no_io.add(key)  # denied or absent stays so for the process's life: not tried again
        if not rows:  # priming: the counters only
            self._prev[pid] = _Prev(cpu_ticks, io_bytes, start, True)
            return None
        cpu_pct = 0.0
        disk: float | None = None if io_bytes is None else 0.0
        if dt is not None and old is not None:
            cpu_pct = 100.0 * (cpu_ticks - old.cpu_ticks) / CLK_TCK / dt
            if io_bytes is not None and old.io_bytes is not None:
                disk = max(io_bytes - old.io_bytes, 0) / dt
        moved = old is None or (io_bytes is not None and io_bytes != old.io_bytes)
        row = old.row if old is not None else None
        if (
            row is None
            or row.cpu_pct != cpu_pct
            or row.disk_bps != disk
            or row.rss_bytes != rss
            or row.state != state
            or row.name != name
        ):  # else a sleeper whose row did not change: the same row (most of a box, most passes)
            row = self._row(pid, d, key, name, state, start, cpu_pct, rss, disk)
            if row is None:
                return None
        if old is not None and old.row is row and not moved and not old.io_moved:
            self._prev[pid] = old  # nothing moved: its counters are the ones it had
        else:
            self._prev[pid] = _Prev(cpu_ticks, io_bytes, start, moved, row)
        return row

    def _row(
        self,
        pid: int,
        d: str,
        key: tuple[int, int],
        name: str,
        state: str,
        start: int,
        cpu_pct: float,
        rss: int,
        disk: float | None,
    ) -> ProcRow | None:
        if key not in self._ident:  # user, command and container: read once per process
            try:
                uid = os.stat(d).st_uid  # /proc/PID belongs to the process's effective user
            except OSError:
                return None
            cmd = _text(d + "cmdline").replace("\0", " ").strip()
            ident = container_of(_text(d + "cgroup"))
            label = ident.label if ident else ""
            self._ident[key] = (self._user(uid), label, clean(redact_text(cmd or f"[{name}]")))
        user, container, cmdline = self._ident[key]
        return ProcRow(
            pid=pid,
            user=user,
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


def _text(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def _io_bytes(d: str) -> int | None:
    """read_bytes + write_bytes; None when the kernel has no I/O accounting or denies the file."""
    try:
        fd = os.open(d + "io", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    f = data.split()  # rchar: N wchar: N syscr: N syscw: N read_bytes: N write_bytes: N ...
    if len(f) >= 12 and f[8] == b"read_bytes:" and f[10] == b"write_bytes:":
        return int(f[9]) + int(f[11])
    total, found = 0, False  # another layout: by name
    for key, val in zip(f[::2], f[1::2], strict=False):
        if key in (b"read_bytes:", b"write_bytes:"):
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
