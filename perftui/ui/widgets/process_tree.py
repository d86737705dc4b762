"""The attached process's tree and its Python stacks as lines of (text, role) pieces: what the process
pane shows when a process is attached (no Textual; read from the store)."""

from __future__ import annotations

from typing import Literal

from perftui.core import details
from perftui.core.details import ProcInfoDetail, ProcRow
from perftui.core.proctable_record import DETAIL_KEY
from perftui.core.sanitize import clean
from perftui.core.specs_proc import STACK_CATEGORIES
from perftui.core.units import format_bytes
from perftui.store.metric_store import MetricStore
from perftui.ui.widgets.stack_processes import MAX_ROWS, process_rows, samples_head

BAR_WIDTH = 12
MAX_CATEGORIES = 4

View = Literal["tree", "stacks"]
Role = Literal["title", "text", "dim", "warn", "bad", "bar", "sel"]
Line = tuple[tuple[str, Role], ...]


def text_line(*parts: tuple[str, Role]) -> Line:
    return tuple(parts)


def is_attached(store: MetricStore) -> bool:
    return store.status("process") is not None or details.proc_info(store) is not None


def process_lines(store: MetricStore) -> list[str]:
    """The GPU processes table (not attached)."""
    rows = details.gpu_processes(store)
    if not rows:
        return []
    rows.sort(key=lambda p: -float(p["used_bytes"] or 0))
    out = [f"{'GPU':>3} {'PID':>7} {'GPU mem':>9} {'SM':>4} {'mem':>4}"]

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.0f}%"

    for p in rows:
        used = p["used_bytes"]
        out.append(
            f"{p['gpu']:>3} {p['pid']:>7} "
            f"{'—' if used is None else format_bytes(float(used)):>9} "
            f"{pct(p['sm_util']):>4} {pct(p['mem_util']):>4}"
        )
    return out


def _bytes(v: float | None) -> str:
    return "—" if v is None else format_bytes(float(v))


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}"


def _ordered_tree(rows: list[ProcRow], root: int | None) -> list[tuple[int, ProcRow]]:
    """(depth, row) depth first from the root; children by PID; rows whose parent is missing at depth 0."""
    by_pid = {r["pid"]: r for r in rows}
    kids: dict[int, list[int]] = {}
    for pid, r in by_pid.items():
        ppid = r["ppid"]
        if ppid is not None and ppid in by_pid and pid != root:
            kids.setdefault(ppid, []).append(pid)
    tops = [p for p, r in by_pid.items() if p == root or r["ppid"] not in by_pid or p == r["ppid"]]
    tops.sort(key=lambda p: (p != root, p))
    out: list[tuple[int, ProcRow]] = []
    seen: set[int] = set()
    stack = [(0, p) for p in reversed(tops)]
    while stack:
        depth, pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        out.append((depth, by_pid[pid]))
        for child in sorted(kids.get(pid, []), reverse=True):
            stack.append((depth + 1, child))
    return out


def attached_container(store: MetricStore, pid: int | None) -> str:
    """The container the attached process runs in ("docker 3f2a9c1b2d4e"), "" when none is known.

    From the process list's row for `pid` (the proctable sampler's container column), else from the
    cgroup sampler's attached cgroup (`--pid`) when it is a container's: what the store already has."""
    table = store.detail(DETAIL_KEY)
    rows = table.get("rows") if isinstance(table, dict) else None
    for r in rows if isinstance(rows, list) else []:
        if isinstance(r, dict) and r.get("pid") == pid and pid is not None:
            label = r.get("container")
            return clean(label) if isinstance(label, str) else ""
    slug = store.detail("cgroup.attached")
    groups = store.detail("cgroup.groups")
    group = groups.get(slug) if isinstance(groups, dict) and isinstance(slug, str) else None
    if isinstance(group, dict) and (group.get("container_id") or group.get("kind") == "lxc"):
        label = group.get("label")
        return clean(label) if isinstance(label, str) else ""
    return ""


def _exit_words(info: ProcInfoDetail) -> str:
    code = info.get("exit_code")
    return "exited" + (f" (status {code})" if code is not None else "")


def tree_lines(store: MetricStore) -> list[Line]:
    """The attached tree: a head (PID, name, container, live figures) and one row per process. Once
    the process has exited (or cannot be read) the head says so instead of its last figures."""
    info: ProcInfoDetail = details.proc_info(store) or {}
    status = store.status("process")
    pid = info.get("pid")
    name = info.get("name") or "?"
    out: list[Line] = []
    summary = [f"PID {pid if pid is not None else '?'} {name}"]
    container = attached_container(store, pid)
    if container:
        summary.append(f"in {container}")
    exited = info.get("status") == "exited"
    if exited:
        summary.append(_exit_words(info))
    if not exited and (status is None or status.available):  # live figures only while it runs
        procs = store.latest("proc.procs")
        if procs is not None:
            summary.append(f"{procs:.0f} proc{'s' if procs != 1 else ''}")
        cpu = store.latest("proc.cpu")
        if cpu is not None:
            summary.append(f"CPU {cpu:.0f}%")
        rss = store.latest("proc.rss_bytes")
        if rss is not None:
            summary.append(f"RSS {format_bytes(rss)}")
        gpu = store.latest("proc.gpu_mem_bytes")
        if gpu is not None:
            summary.append(f"GPU {format_bytes(gpu)}")
    out.append(text_line((" · ".join(summary), "title")))
    if exited or (status is not None and not status.available):
        reason = status.reason if status is not None and not status.available else None
        out.append(text_line((reason or info.get("message") or "process not available", "bad")))
        out.append(text_line(("samples so far are kept (s writes a report)", "dim")))
        return out
    rows = details.proc_tree(store)
    if not rows:
        out.append(text_line(("waiting for the first sample of the process tree", "dim")))
        return out
    out.append(text_line((f"{'PID':>7} {'CPU%':>4} {'RSS':>8} {'GPU mem':>8} S NAME", "dim")))
    for depth, r in _ordered_tree(rows, pid):
        state = (r["state"] or "?")[:1].upper()
        label = "  " * depth + (r["name"] or "?")
        out.append(
            text_line(
                (
                    f"{r['pid']:>7} {_pct(r['cpu']):>4} {_bytes(r['rss']):>8} "
                    f"{_bytes(r['gpu_mem_bytes']):>8} {state} {label}",
                    "text",
                )
            )
        )
    note = info.get("gpu_note")
    if note:
        out.append(text_line((note, "dim")))
    return out


def share_bar(pct: float, width: int = BAR_WIDTH) -> str:
    filled = max(0, min(width, round(pct / 100.0 * width)))
    return "█" * filled + "░" * (width - filled)


def stack_lines(store: MetricStore, *, full: bool = False) -> list[Line]:
    """Category bars, the sampled processes and the top functions; `full` (the full view): every
    category, every sampled process and each function's whole file path."""
    out: list[Line] = []
    status = store.status("stacks")
    if status is not None and not status.available:
        out.append(text_line(("stacks unavailable: ", "warn"), (status.reason or "unknown reason", "text")))
    shares = [(c, store.latest(f"stack.share.{c}")) for c in STACK_CATEGORIES]
    ranked = sorted(((c, v) for c, v in shares if v is not None and v >= 0.5), key=lambda cv: -cv[1])
    if ranked:
        out.append(text_line((samples_head(store), "title")))
    shown = ranked if full else ranked[:MAX_CATEGORIES]
    width = max((len(c) for c, _ in shown), default=0)
    for cat, v in shown:
        out.append(text_line((f"{cat:<{width}} ", "text"), (share_bar(v), "bar"), (f" {v:3.0f}%", "text")))
    # which process of the tree each stack is from
    out.extend(process_rows(store, limit=None if full else MAX_ROWS))
    top = details.stack_top(store)
    if top:
        out.append(text_line((f"{'self%':>5} {'tot%':>5} function", "dim")))
        for t in top:
            path = t["file"] or "?"
            where = path if full else path.rsplit("/", 1)[-1]
            where += f":{t['line']}" if t["line"] is not None else ""
            out.append(
                text_line(
                    (f"{_pct(t['self_pct']):>5} {_pct(t['total_pct']):>5} ", "text"),
                    (t["function"] or "?", "title"),
                    (f" {where}", "dim"),
                )
            )
    if not ranked and not top and (status is None or status.available):
        out.append(text_line(("waiting for stack samples (py-spy)", "dim")))
    return out
