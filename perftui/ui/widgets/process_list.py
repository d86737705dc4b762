"""The process list: what the process pane shows when nothing is attached.

It reads the "proctable" detail (perftui.samplers.proctable_sampler: {"ts", "rows"}, each row a
ProcRow as a dict) and keeps the list's own state: sort key, filter, selection, scroll. Columns: PID,
user, CPU %, RSS, GPU memory and SM % (only where a GPU exists), disk B/s, state, container (only
when some process runs in one) and the command (redacted by the sampler). A field /proc did not
give shows "n/a"; a process that exits leaves the list on the next pass and the selection moves to
its neighbour. No Textual here: the pane (process_pane.ProcessPane) draws the lines and owns the keys.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

from perftui.core.sanitize import clean
from perftui.core.units import format_bytes

Role = Literal["title", "text", "dim", "warn", "bad", "bar", "sel"]
Line = tuple[tuple[str, Role], ...]


class ListRow(NamedTuple):
    """One process as the list shows it (from the process table's row)."""

    pid: int
    user: str
    name: str
    state: str
    start_ticks: int
    cpu_pct: float | None
    rss_bytes: int | None
    disk_bps: float | None
    container: str
    cmdline: str
    gpu_mem_bytes: int | None
    sm_pct: float | None

    @property
    def who(self) -> str:
        """The process as a confirmation or a message names it."""
        return f"{self.name or '?'} (PID {self.pid}, user {self.user or '?'})"


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _str(v: object) -> str:
    return clean(v) if isinstance(v, str) else ""


def parse_rows(detail: object) -> list[ListRow]:
    """The rows of a "proctable" detail; rows without a PID or start time are skipped."""
    if not isinstance(detail, Mapping):
        return []
    raw = detail.get("rows")
    out: list[ListRow] = []
    for d in raw if isinstance(raw, list) else []:
        if not isinstance(d, Mapping):
            continue
        pid, start = d.get("pid"), d.get("start_ticks")
        if not isinstance(pid, int) or not isinstance(start, int):
            continue
        rss, gpu = _num(d.get("rss_bytes")), _num(d.get("gpu_mem_bytes"))
        out.append(
            ListRow(
                pid=pid,
                user=_str(d.get("user")),
                name=_str(d.get("name")),
                state=_str(d.get("state")),
                start_ticks=start,
                cpu_pct=_num(d.get("cpu_pct")),
                rss_bytes=None if rss is None else int(rss),
                disk_bps=_num(d.get("disk_bps")),
                container=_str(d.get("container")),
                cmdline=_str(d.get("cmdline")),
                gpu_mem_bytes=None if gpu is None else int(gpu),
                sm_pct=_num(d.get("sm_pct")),
            )
        )
    return out


def _desc(get: Callable[[ListRow], float | None]) -> Callable[[ListRow], tuple[float, int]]:
    # highest first, unknown values last, ties by PID
    def key(r: ListRow) -> tuple[float, int]:
        v = get(r)
        return (-v if v is not None else float("inf"), r.pid)

    return key


# name -> (label, sort key); `o` cycles through them in this order
SORTS: dict[str, tuple[str, Callable[[ListRow], Any]]] = {
    "cpu": ("CPU", _desc(lambda r: r.cpu_pct)),
    "mem": ("memory", _desc(lambda r: None if r.rss_bytes is None else float(r.rss_bytes))),
    "gpu": ("GPU memory", _desc(lambda r: None if r.gpu_mem_bytes is None else float(r.gpu_mem_bytes))),
    "sm": ("SM %", _desc(lambda r: r.sm_pct)),
    "disk": ("disk", _desc(lambda r: r.disk_bps)),
    "name": ("name", lambda r: (r.name.lower(), r.pid)),
}
GPU_SORTS = frozenset({"gpu", "sm"})
MAX_CONTAINER = 24  # "pod 7c1e1234 container 3f2a…" is cut with …
NA = "n/a"


def _bytes(v: float | None, missing: str = NA) -> str:
    return missing if v is None else format_bytes(float(v))


def _rate(v: float | None) -> str:
    return NA if v is None else format_bytes(v) + "/s"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(v: float | None, missing: str = NA) -> str:
    return missing if v is None else f"{v:.0f}"


class ProcessList:
    """The list's state and its lines: `update(detail, gpu)` per tick; keys call the methods below."""

    def __init__(self) -> None:
        self.rows: list[ListRow] = []  # all processes, latest pass
        self.shown: list[ListRow] = []  # filtered and sorted
        self.sort = "cpu"
        self.filter = ""
        self.editing = False  # `/` typed: keys go to the filter until enter / escape
        self.selected: tuple[int, int] | None = None  # (pid, start_ticks)
        self.top = 0
        self.height = 5  # rows that fit (the pane sets it from its size)
        self.gpu = False
        self.received = False
        self._index = 0

    # -- data ----------------------------------------------------------------------
    def update(self, detail: object, gpu: bool) -> None:
        self.received = self.received or detail is not None
        self.rows = parse_rows(detail)
        self.gpu = gpu or any(r.gpu_mem_bytes is not None for r in self.rows)
        if not self.gpu and self.sort in GPU_SORTS:
            self.sort = "cpu"
        self._refilter()

    def _refilter(self) -> None:
        needle = self.filter.lower()
        rows = self.rows
        if needle:
            rows = [
                r
                for r in rows
                if needle in r.cmdline.lower()
                or needle in r.name.lower()
                or needle in r.user.lower()
                or needle in r.container.lower()
                or needle == str(r.pid)
            ]
        self.shown = sorted(rows, key=SORTS[self.sort][1])
        self._keep_selection()

    def _keep_selection(self) -> None:
        if not self.shown:
            self._index, self.top = 0, 0
            return
        idx = None
        if self.selected is not None:
            idx = next((i for i, r in enumerate(self.shown) if (r.pid, r.start_ticks) == self.selected), None)
        if idx is None:  # gone (exited, filtered out) or none yet: the row now at its place
            idx = min(self._index, len(self.shown) - 1)
        self._select(idx)

    def _select(self, idx: int) -> None:
        idx = max(0, min(idx, len(self.shown) - 1))
        self._index = idx
        r = self.shown[idx]
        self.selected = (r.pid, r.start_ticks)
        n = max(1, self.height)
        if idx < self.top:
            self.top = idx
        elif idx >= self.top + n:
            self.top = idx - n + 1
        self.top = max(0, min(self.top, max(0, len(self.shown) - n)))

    @property
    def current(self) -> ListRow | None:
        return self.shown[self._index] if self.shown else None

    # -- keys ------------------------------------------------------------------------
    def move(self, step: int) -> None:
        if self.shown:
            self._select(self._index + step)

    def cycle_sort(self) -> str:
        names = [n for n in SORTS if self.gpu or n not in GPU_SORTS]
        self.sort = names[(names.index(self.sort) + 1) % len(names)] if self.sort in names else "cpu"
        self._refilter()
        return SORTS[self.sort][0]

    def set_filter(self, text: str) -> None:
        self.filter = clean(text)
        self._refilter()

    def set_height(self, rows: int) -> None:
        self.height = max(1, rows)
        if self.shown:
            self._select(self._index)

    # -- lines -----------------------------------------------------------------------
    def title(self) -> str:
        n, total = len(self.shown), len(self.rows)
        count = f"{n}/{total}" if self.filter else f"{total}"
        return f"Processes ({count}) · by {SORTS[self.sort][0]}"

    def filter_line(self) -> str | None:
        if self.editing:
            return f"filter: {self.filter}▏ (enter: keep · esc: clear)"
        return f"filter: {self.filter}" if self.filter else None

    def lines(self, *, full: bool = False) -> list[Line]:
        """The rows that fit (the pane); `full` (the full view): every row, containers uncut."""
        out: list[Line] = []
        flt = self.filter_line()
        if flt is not None:
            out.append(((flt, "title"),))
        if not self.received:
            out.append((("listing processes…", "dim"),))
            return out
        if not self.shown:
            what = f'no process matches "{self.filter}"' if self.filter else "no processes listed"
            out.append(((what, "dim"),))
            return out
        n = len(self.shown)
        first, last = (0, n) if full else (self.top, min(n, self.top + self.height))
        widest = max((len(r.container) for r in self.shown[first:last]), default=0)
        cw = widest if full else min(MAX_CONTAINER, widest)  # 0: no column
        head = f"{'PID':>7} {'USER':<8} {'CPU%':>4} {'RSS':>7}"
        if self.gpu:
            head += f" {'GPU mem':>7} {'SM%':>3}"
        head += f" {'DISK':>10} S"
        if cw:
            cw = max(cw, len("CONTAINER"))
            head += f" {'CONTAINER':<{cw}}"
        out.append(((head + " COMMAND", "dim"),))
        for i in range(first, last):
            r = self.shown[i]
            text = f"{r.pid:>7} {r.user[:8]:<8} {_pct(r.cpu_pct):>4} {_bytes(r.rss_bytes):>7}"
            if self.gpu:
                text += f" {_bytes(r.gpu_mem_bytes, '-'):>7} {_pct(r.sm_pct, '-'):>3}"
            text += f" {_rate(r.disk_bps):>10} {(r.state or '?')[:1]}"
            if cw:
                text += f" {_fit(r.container or '-', cw):<{cw}}"
            text += f" {r.cmdline or r.name}"
            out.append(((text, "sel" if i == self._index else "text"),))
        return out


class Signaller(NamedTuple):
    """Who sends the signals: the user perftui runs as (`current()`), root or not."""

    user: str
    uid: int
    root: bool

    @classmethod
    def current(cls) -> Signaller:
        uid = os.geteuid()
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        return cls(name, uid, uid == 0)

    def refusal(self, row: ListRow) -> str | None:
        """None when `row`'s process may be signalled (same user, or root); else the one line why not.
        The kernel's rule compares user IDs: a listed user is its name, or its UID without one."""
        if self.root or row.user in (self.user, str(self.uid)):
            return None
        return (
            f"k: {row.who} belongs to {row.user or 'another user'}; you are {self.user}: only your "
            "own processes can be signalled (or run perftui as root)"
        )
