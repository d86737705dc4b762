"""The one table that maps Python stacks to stack categories (pure: no I/O).

A stack is a sequence of frames, innermost first (py-spy's `frames[0]`).
Classification, in order:

1. Walk from the leaf outwards; the first frame matching a *specific* pattern
   (data loading, tokenization, CUDA sync, collectives, disk read, socket
   wait) decides: the match nearest the leaf wins.
2. Frames matching a *generic wait* pattern (threading/queue/selectors/
   multiprocessing waits) do not decide by themselves: the walk goes on, so a
   DataLoader `_try_get_data` above a `queue.get` above `selectors.select`
   still counts as data loading. A generic wait under an `asyncio` event loop
   is a socket wait. A generic wait with no specific frame above it is idle.
3. A stack with no match at all (pure user frames: C calls such as
   `time.sleep`, `sock.recv`, `f.read`, `lock.acquire` never appear as Python
   frames) is classified by the thread's state at the sample: see
   `classify_thread_state`.

GIL contention rule (step 3): a thread sample whose stack matches nothing,
that does not own the GIL while another thread of the same process does, and
that is blocked in `futex` (the GIL is a mutex + condition variable, so a
thread waiting for it sleeps in futex), or is runnable but called inactive by
py-spy (just woken to take the GIL, waiting for a CPU), counts as `gil`.

Disk reads: a thread blocked in read/pread/readv or in state D is `disk_read`;
so is one on a CPU without the GIL whose own storage read rate
(/proc/PID/task/TID/io) since its previous sample is >= DISK_READ_RATE. Without the syscall
(not readable), "active per py-spy, not owning the GIL while another thread
does" is used instead. A C-level `lock.acquire()` called directly from user
code also sleeps in futex and is counted the same way (lock contention).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from perftui.core.specs_proc import STACK_CATEGORIES

__all__ = ["PATTERNS", "STACK_CATEGORIES", "CategoryPattern", "ThreadState", "classify", "classify_frames"]

Kind = Literal["specific", "wait", "wait_context"]


@dataclass(frozen=True)
class CategoryPattern:
    category: str  # one of STACK_CATEGORIES ("idle" for generic waits)
    file_re: str  # searched in the frame's filename, '/'-separated
    func_re: str | None = None  # fullmatch on the function name (py-spy "Class.method" or "func")
    kind: Kind = "specific"

    def matches(self, name: str, filename: str) -> bool:
        if _re(self.file_re).search(filename.replace("\\", "/")) is None:
            return False
        if self.func_re is None:
            return True
        short = name.rsplit(".", 1)[-1]
        rx = _re(f"(?:{self.func_re})")
        return rx.fullmatch(name) is not None or rx.fullmatch(short) is not None


_COMPILED: dict[str, re.Pattern[str]] = {}


def _re(pattern: str) -> re.Pattern[str]:
    rx = _COMPILED.get(pattern)
    if rx is None:
        rx = _COMPILED[pattern] = re.compile(pattern)
    return rx


# The table. Order matters only between patterns that match the same frame.
PATTERNS: tuple[CategoryPattern, ...] = (
    # data loading wait (PyTorch DataLoader)
    CategoryPattern("dataloader", r"torch/utils/data/dataloader\.py$", r"_next_data|_get_data|_try_get_data"),
    # tokenization
    CategoryPattern("tokenization", r"transformers/tokenization_utils[a-z_]*\.py$"),
    CategoryPattern("tokenization", r"(^|/)tokenizers/"),
    CategoryPattern("tokenization", r"(^|/)(sentencepiece|tiktoken)/"),
    # CUDA synchronisation (.item()/.cpu() show as the calling line: not visible here)
    CategoryPattern("cuda_sync", r"torch/cuda/__init__\.py$", r"synchronize"),
    CategoryPattern("cuda_sync", r"torch/cuda/streams\.py$", r"synchronize|wait_event|wait_stream|query"),
    # collective communication
    CategoryPattern(
        "collective",
        r"torch/distributed/distributed_c10d\.py$",
        r"all_reduce\w*|all_gather\w*|reduce_scatter\w*|all_to_all\w*|broadcast\w*|barrier"
        r"|monitored_barrier|reduce|gather\w*|scatter\w*|send|recv|isend|irecv|wait\w*",
    ),
    # disk reads
    CategoryPattern("disk_read", r"PIL/Image\.py$", r"open|_open_core|frombuffer"),
    CategoryPattern("disk_read", r"PIL/ImageFile\.py$", r"load|load_prepare|load_read"),
    CategoryPattern("disk_read", r"numpy/lib/_?(npyio|format)(_impl)?\.py$"),
    CategoryPattern("disk_read", r"torch/serialization\.py$"),
    CategoryPattern("disk_read", r"(^|/)(safetensors|pyarrow|h5py)/"),
    # socket waits
    CategoryPattern("socket_wait", r"(^|/)(socket|ssl)\.py$"),
    CategoryPattern("socket_wait", r"(^|/)http/client\.py$"),
    CategoryPattern("socket_wait", r"(^|/)urllib3/"),
    # generic waits: idle unless a specific frame sits above them
    CategoryPattern(
        "idle", r"(^|/)threading\.py$", r"wait|wait_for|_wait_for_tstate_lock|join|acquire", kind="wait"
    ),
    CategoryPattern("idle", r"(^|/)queue\.py$", r"get|put|join", kind="wait"),
    CategoryPattern("idle", r"(^|/)selectors\.py$", r"select", kind="wait"),
    # the blocking calls only: a forked worker runs its target under Popen._launch and a Pool's
    # tasks run under pool.worker, and neither is a wait
    CategoryPattern(
        "idle",
        r"multiprocessing/(connection|queues|synchronize|pool|popen_\w+)\.py$",
        r"wait|wait_for|_wait\w*|_?recv\w*|_?poll|accept|get|put|join|acquire|__enter__",
        kind="wait",
    ),
    CategoryPattern(
        "idle",
        r"concurrent/futures/(_base|thread|process)\.py$",
        r"result|wait|_worker|as_completed",
        kind="wait",
    ),
    CategoryPattern("idle", r"(^|/)subprocess\.py$", r"wait|_wait|communicate|_communicate", kind="wait"),
    # an asyncio event loop waiting in its selector waits on sockets
    CategoryPattern("socket_wait", r"(^|/)asyncio/", kind="wait_context"),
)


def classify_frames(frames: Iterable[tuple[str, str]]) -> tuple[str | None, bool]:
    """(category, saw_wait) for a stack given as (function, filename) pairs, innermost first.

    category is None when no specific pattern matched; saw_wait tells whether a
    generic wait frame was on the stack (then the sample is idle).
    """
    saw_wait = False
    for name, filename in frames:
        for pat in PATTERNS:
            if pat.kind == "wait_context":
                if saw_wait and pat.matches(name, filename):
                    return pat.category, True
                continue
            if not pat.matches(name, filename):
                continue
            if pat.kind == "specific":
                return pat.category, saw_wait
            saw_wait = True
            break
    return None, saw_wait


# -- thread state -------------------------------------------------------------
# Syscall numbers of a thread blocked in the kernel (/proc/PID/task/TID/syscall).
_SYSCALLS: dict[str, dict[str, frozenset[int]]] = {
    "x86_64": {
        "disk": frozenset({0, 17, 19, 295, 327}),  # read pread64 readv preadv preadv2
        "socket": frozenset({42, 43, 45, 47, 288, 299}),  # connect accept recvfrom recvmsg accept4 recvmmsg
        "sleep": frozenset({7, 23, 34, 35, 61, 230, 232, 247, 270, 271, 281, 441}),
        "futex": frozenset({202}),
    },
    "aarch64": {
        "disk": frozenset({63, 65, 67, 69, 286}),
        "socket": frozenset({202, 203, 207, 212, 242, 243}),
        "sleep": frozenset({22, 72, 73, 95, 101, 115, 260, 441}),
        "futex": frozenset({98}),
    },
}


def syscall_kind(syscall: int | None, machine: str) -> str | None:
    """'disk' | 'socket' | 'sleep' | 'futex' | 'other' for a blocked thread; None when unknown."""
    if syscall is None:
        return None
    table = _SYSCALLS.get(machine)
    if table is None:
        return None
    for kind, numbers in table.items():
        if syscall in numbers:
            return kind
    return "other"


@dataclass(frozen=True)
class ThreadState:
    """What is known about one thread at one sample."""

    active: bool | None = None  # py-spy's view
    owns_gil: bool | None = None
    other_owns_gil: bool = False  # another thread of the process held the GIL at that sample
    proc_state: str | None = None  # /proc stat state letter: R S D ...
    running: bool | None = None  # /proc syscall said "running"
    syscall: str | None = None  # syscall_kind(...) when blocked
    read_rate: float | None = None  # the thread's storage reads since its previous sample, bytes/s


# A thread on a CPU without the GIL that reads storage at least this fast is
# finishing reads (copying, or runnable after its I/O completed), not computing.
DISK_READ_RATE = 1_000_000.0


def classify_thread_state(st: ThreadState) -> str:
    """Category of a sample whose stack matched no pattern (see the module doc)."""
    if st.owns_gil:
        return "compute"
    if st.syscall == "disk" or st.proc_state == "D":
        return "disk_read"
    if st.syscall == "socket":
        return "socket_wait"
    if st.syscall == "sleep":
        return "idle"
    if st.syscall == "futex":
        return "gil" if st.other_owns_gil else "idle"
    if st.running and st.read_rate is not None and st.read_rate >= DISK_READ_RATE:
        return "disk_read"
    if st.running:
        # on a CPU, or runnable: py-spy calling it inactive while another thread holds the
        # GIL means it has just been woken to take the GIL; active means C code without the GIL
        return "gil" if st.active is False and st.other_owns_gil else "compute"
    if st.syscall == "other":  # blocked elsewhere (write, ioctl...): py-spy's flag decides
        return "compute" if st.active else "idle"
    # No syscall information: fall back to py-spy's flags.
    if st.active:
        return "gil" if st.other_owns_gil else "compute"
    if st.active is False:
        return "idle"
    return "compute"


def classify(frames: Sequence[tuple[str, str]], state: ThreadState | None = None) -> str:
    """The category of one thread sample."""
    category, saw_wait = classify_frames(frames)
    if category is not None:
        return category
    if saw_wait:
        return "idle"
    return classify_thread_state(state or ThreadState())


assert {p.category for p in PATTERNS} <= set(STACK_CATEGORIES)
