"""PID helpers: validation before any UI starts, NSpid mapping, exit tracking.

Host PID rule (NVML reports host PIDs): the `NSpid:` line of `/proc/PID/status`
lists the PID in every PID namespace from the one that mounted that /proc down
to the process's own. Its FIRST entry is therefore the PID as seen from the
outermost namespace visible through `proc_root`: on the host (or with the
host's /proc mounted, e.g. `--pid=host` or `-v /proc:/host/proc`), that is the
host PID NVML reports. A container with its own private /proc only sees its
own namespace; there the first entry is the container PID and host PIDs cannot
be matched (`gpu_pid_note` says so). Without an NSpid line (kernel < 4.1) the
PID itself is used.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from dataclasses import dataclass

import psutil

from perftui.samplers.procfs import CLK_TCK

PID_MAX_LIMIT = 4_194_304  # the kernel's PID_MAX_LIMIT on 64-bit (pid_max can be set no higher)


def validate_pid(pid: object) -> str | None:
    """Error text for a PID we cannot attach to, or None when it is fine."""
    if isinstance(pid, bool) or not isinstance(pid, (int, str)):
        return f"invalid PID {pid!r}: expected a positive integer"
    try:
        n = int(pid)
    except ValueError:
        return f"invalid PID {pid!r}: expected a positive integer"
    if n <= 0:
        return f"invalid PID {pid!r}: expected a positive integer"
    if n > PID_MAX_LIMIT:  # larger values overflow the C int behind kill(2)
        return f"no process with PID {n}"
    if not psutil.pid_exists(n):
        return f"no process with PID {n}"
    try:
        proc = psutil.Process(n)
        uids = proc.uids()
    except psutil.NoSuchProcess:
        return f"no process with PID {n}"
    except psutil.AccessDenied:
        return f"no permission to inspect PID {n}"
    if os.geteuid() != 0 and os.geteuid() not in (uids.real, uids.effective):
        try:
            owner = proc.username()
        except (psutil.Error, KeyError):
            owner = str(uids.real)
        return (
            f"no permission to attach to PID {n}: it belongs to user {owner}; "
            "run perftui as that user or as root"
        )
    return None


def read_nspid(pid: int, proc_root: str = "/proc") -> list[int] | None:
    """The NSpid entries of /proc/PID/status, outermost first; None when unreadable or absent."""
    try:
        with open(os.path.join(proc_root, str(pid), "status"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return [int(x) for x in line.split()[1:]]
    except (OSError, ValueError):
        return None
    return None


def host_pid(pid: int, proc_root: str = "/proc") -> int:
    """The PID NVML would report for `pid` (see the module doc for the rule)."""
    ns = read_nspid(pid, proc_root)
    return ns[0] if ns else pid


def gpu_pid_note(gpu_pids: set[int], proc_root: str = "/proc") -> str | None:
    """A note when GPU processes exist but none is visible here (private PID namespace)."""
    if not gpu_pids:
        return None
    if any(os.path.exists(os.path.join(proc_root, str(p))) for p in gpu_pids):
        return None
    return (
        "GPU processes are reported with host PIDs that this /proc does not show (a container "
        "with its own PID namespace): run with --pid=host or mount the host's /proc"
    )


@dataclass(frozen=True)
class ExitInfo:
    pid: int
    at: float  # when perftui noticed (epoch seconds)
    code: int | None  # exit code; negative = killed by that signal; None = unknown

    @property
    def status_text(self) -> str:
        if self.code is None:
            return "status unknown"
        if self.code < 0:
            return f"killed by signal {-self.code}"
        return f"status {self.code}"

    @property
    def message(self) -> str:
        hhmmss = time.strftime("%H:%M:%S", time.localtime(self.at))
        return f"process {self.pid} exited at {hhmmss} ({self.status_text})"


def peek_child_exit_code(pid: int) -> int | None:
    """Exit code of our own exited child WITHOUT reaping it (waitid WNOWAIT); None if unknown."""
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return None
    try:
        res = waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ECHILD, errno.EINVAL):
            return None
        raise
    if res is None:
        return None
    if res.si_code == os.CLD_EXITED:
        return int(res.si_status)
    if res.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
        return -int(res.si_status)
    return None


class ProcessWatch:
    """Identity of the attached process (PID + create time), shared by its samplers.

    Detects an exit (gone, zombie, or PID reused: create time changed) once, and
    remembers when and with what status, so every sampler reports the same line.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._lock = threading.Lock()
        self.exit: ExitInfo | None = None
        self.zombie_since: float | None = None
        self._zombie_code: int | None = None
        self.create_time: float | None = None
        with contextlib.suppress(psutil.Error):
            self.create_time = psutil.Process(pid).create_time()

    def check(self, now: float | None = None) -> ExitInfo | None:
        """Look at the process now; returns the exit info once it has exited."""
        with self._lock:
            if self.exit is not None:
                return self.exit
            now = time.time() if now is None else now
            try:
                proc = psutil.Process(self.pid)
                ct = proc.create_time()
                status = proc.status()
            except psutil.NoSuchProcess:
                code = self._zombie_code if self._zombie_code is not None else peek_child_exit_code(self.pid)
                self.exit = ExitInfo(self.pid, self.zombie_since or now, code)
                return self.exit
            except psutil.AccessDenied:
                return None
            if self.create_time is not None and abs(ct - self.create_time) > 0.05:
                # the PID now names another process
                self.exit = ExitInfo(self.pid, self.zombie_since or now, self._zombie_code)
                return self.exit
            if status == psutil.STATUS_ZOMBIE:
                if self.zombie_since is None:
                    self.zombie_since = now
                if self._zombie_code is None:
                    self._zombie_code = peek_child_exit_code(self.pid)
            return None

    @property
    def zombie_code(self) -> int | None:
        return self._zombie_code


# -- small /proc readers (beyond psutil) ----------------------------------------
@dataclass(frozen=True)
class ThreadCounters:
    runq_ns: int | None  # schedstat field 2: time spent waiting on a run queue
    vol_cs: int | None
    invol_cs: int | None


def parse_schedstat(text: str) -> int | None:
    """Run-queue wait in ns (field 2 of /proc/PID/schedstat: "cpu_ns wait_ns timeslices")."""
    parts = text.split()
    if len(parts) < 2:
        return None
    try:
        return int(parts[1])
    except ValueError:
        return None


def parse_ctxt(text: str) -> tuple[int | None, int | None]:
    vol = invol = None
    for line in text.splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            vol = int(line.split()[1])
        elif line.startswith("nonvoluntary_ctxt_switches:"):
            invol = int(line.split()[1])
    return vol, invol


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def thread_counters(pid: int, proc_root: str = "/proc") -> dict[int, ThreadCounters]:
    """Per-thread run-queue wait and context switches (/proc/PID/status counts the leader only)."""
    out: dict[int, ThreadCounters] = {}
    base = os.path.join(proc_root, str(pid), "task")
    try:
        tids = os.listdir(base)
    except OSError:
        return out
    for name in tids:
        if not name.isdigit():
            continue
        sched = _read(os.path.join(base, name, "schedstat"))
        status = _read(os.path.join(base, name, "status"))
        if sched is None and status is None:
            continue
        vol, invol = parse_ctxt(status) if status else (None, None)
        out[int(name)] = ThreadCounters(parse_schedstat(sched) if sched else None, vol, invol)
    return out


def fd_counts(pid: int, proc_root: str = "/proc") -> tuple[int, int] | None:
    """(open files, sockets) from /proc/PID/fd links; None when not permitted."""
    base = os.path.join(proc_root, str(pid), "fd")
    try:
        fds = os.listdir(base)
    except OSError:
        return None
    files = sockets = 0
    for fd in fds:
        try:
            target = os.readlink(os.path.join(base, fd))
        except OSError:
            continue
        if target.startswith("socket:"):
            sockets += 1
        elif target.startswith("/"):
            files += 1
    return files, sockets


def children_of(pid: int, proc_root: str = "/proc") -> list[int] | None:
    """Direct children via /proc/PID/task/*/children; None when the kernel lacks that file."""
    base = os.path.join(proc_root, str(pid), "task")
    try:
        tids = os.listdir(base)
    except OSError:
        return []
    kids: list[int] = []
    seen_file = False
    for tid in tids:
        text = _read(os.path.join(base, tid, "children"))
        if text is None:
            continue
        seen_file = True
        kids.extend(int(x) for x in text.split())
    if not seen_file and tids:
        return None
    return kids


def thread_state(pid: int, tid: int, proc_root: str = "/proc") -> tuple[str | None, float | None]:
    """(state letter, cpu seconds) of one thread from /proc/PID/task/TID/stat."""
    text = _read(os.path.join(proc_root, str(pid), "task", str(tid), "stat"))
    if not text:
        return None, None
    rest = text.rsplit(")", 1)[-1].split()
    if len(rest) < 13:
        return None, None
    try:
        ticks = int(rest[11]) + int(rest[12])
    except ValueError:
        return rest[0], None
    return rest[0], ticks / CLK_TCK


def thread_syscall(pid: int, tid: int, proc_root: str = "/proc") -> tuple[bool | None, int | None]:
    """(running, syscall number) from /proc/PID/task/TID/syscall; (None, None) when unreadable."""
    text = _read(os.path.join(proc_root, str(pid), "task", str(tid), "syscall"))
    if not text:
        return None, None
    first = text.split(None, 1)[0]
    if first == "running":
        return True, None
    try:
        nr = int(first)
    except ValueError:
        return None, None
    return (False, nr) if nr >= 0 else (None, None)


def thread_read_bytes(pid: int, tid: int, proc_root: str = "/proc") -> int | None:
    """Storage bytes read by one thread (/proc/PID/task/TID/io read_bytes); None when unreadable."""
    text = _read(os.path.join(proc_root, str(pid), "task", str(tid), "io"))
    if not text:
        return None
    for line in text.splitlines():
        if line.startswith("read_bytes:"):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None
