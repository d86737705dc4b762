"""Which processes of the attached tree the stacks sampler samples.

The attached process first, then its descendants (children before grandchildren, by PID), at most
`MAX_PROCESSES` in all: a `multiprocessing` parent sleeps while its workers compute, and sampling
the parent alone says "idle 100 %". The tree is read once per slice (or dump), so a worker started
later joins at the next one. A descendant py-spy cannot sample (not Python: a shell, a compiled
tool; ptrace refused) is skipped for good, keyed by PID and start time (PIDs are reused).
"""

from __future__ import annotations

import psutil

MAX_PROCESSES = 8  # each sampled process costs about one more py-spy (stack_slice's figures)

# py-spy errors that say a descendant can never be sampled (PySpyError kinds)
NEVER_SAMPLED = ("not_python", "permission", "missing")


class ProcessTree:
    """The PIDs to sample under `root` (`pids`), and the descendants left out (`skip`)."""

    def __init__(self, root: int, *, subprocesses: bool = True, limit: int | None = None) -> None:
        self.root = root
        self.subprocesses = subprocesses
        self.limit = MAX_PROCESSES if limit is None else max(1, limit)
        self.left_out = 0  # descendants over the limit at the last `pids()`
        self._skipped: set[tuple[int, float]] = set()
        self._started: dict[int, float] = {}

    def pids(self) -> list[int]:
        """The root, then the descendants worth a py-spy (at most `limit` PIDs in all)."""
        self.left_out = 0
        if not self.subprocesses:
            return [self.root]
        try:
            kids = psutil.Process(self.root).children(recursive=True)
        except psutil.Error:
            return [self.root]
        depth: dict[int, int] = {self.root: 0}
        rows: list[tuple[int, int]] = []
        for k in kids:
            try:
                started, ppid = k.create_time(), k.ppid()
            except psutil.Error:
                continue
            if (k.pid, started) in self._skipped:
                continue
            self._started[k.pid] = started
            depth[k.pid] = depth.get(ppid, 0) + 1  # psutil lists parents before their children
            rows.append((depth[k.pid], k.pid))
        rows.sort()
        self.left_out = max(0, len(rows) - (self.limit - 1))
        return [self.root] + [pid for _, pid in rows[: self.limit - 1]]

    def skip(self, pid: int) -> None:
        """Never sample this descendant again (py-spy said it cannot)."""
        if pid != self.root and pid in self._started:
            self._skipped.add((pid, self._started[pid]))
