"""The stacks view's parts about the processes sampled: which process each stack is from.

A `multiprocessing` parent sleeps while its workers compute: the stacks sampler samples the Python
processes of the attached tree (`perftui.samplers.stack_tree`) and each thread row carries its
PID. `process_rows` turns `stack.threads` into one row per process (PID, name from `proc.tree`,
samples, the category of its busiest thread, where that thread was last) when more than one
process was sampled; `samples_head` gives the count in the head with the hint of
`perftui.core.stack_samples` (the diagnosis quotes the same).
"""

from __future__ import annotations

from typing import Literal

from perftui.core import details
from perftui.core.sanitize import clean
from perftui.core.stack_samples import samples_count, samples_hint
from perftui.store.metric_store import MetricStore

MAX_ROWS = 8
NAME_WIDTH = 15

Part = tuple[str, Literal["title", "text", "dim", "warn"]]


def samples_head(store: MetricStore) -> str:
    """ "stack samples over 20 s (160)", or "... (40 · few: shares ±15 %)" when they are few."""
    head = "stack samples"
    win = details.stack_window(store)
    if win is not None:
        head += f" over {win['seconds']:g} s"
    samples = store.latest("stack.samples")
    if samples is not None:
        hint = samples_hint(samples)
        head += f" ({samples_count(samples)}{' · ' + hint if hint else ''})"
    return head


def _where(leaf: str | None) -> str:
    """ "work (/x/job.py:7)" -> "work job.py:7"."""
    if not leaf:
        return ""
    name, sep, loc = leaf.partition(" (")
    if not sep:
        return leaf
    return f"{name} {loc.rstrip(')').rsplit('/', 1)[-1]}"


def process_rows(store: MetricStore, limit: int | None = MAX_ROWS) -> list[tuple[Part, ...]]:
    """One row per sampled process, the attached one first (at most `limit`; None: all); nothing for
    a lone process."""
    threads = details.stack_threads(store)
    win = details.stack_window(store)
    left_out = (win["processes_left_out"] if win is not None else None) or 0
    per: dict[int, tuple[float, str, str]] = {}  # pid -> samples, busiest thread's category, leaf
    for t in threads:  # busiest thread first
        n, cat, leaf = per.get(t["pid"], (0.0, t["category"] or "?", _where(t["leaf"])))
        per[t["pid"]] = (n + (t["samples"] or 0.0), cat, leaf)
    if len(per) < 2 and not left_out:
        return []
    names = {r["pid"]: r["name"] for r in details.proc_tree(store)}
    info = details.proc_info(store)
    root = info["pid"] if info is not None else None
    if info is not None:
        names.setdefault(info["pid"], info.get("name"))
    order = sorted(per, key=lambda pid: (pid != root, -per[pid][0], pid))
    out: list[tuple[Part, ...]] = [(("    PID process         samples mostly      in", "dim"),)]
    for pid in order if limit is None else order[:limit]:
        n, cat, leaf = per[pid]
        name = clean(names.get(pid) or "?")[:NAME_WIDTH]
        out.append(
            (
                (f"{pid:>7} {name:<{NAME_WIDTH}} {n:>7.0f} ", "text"),
                (f"{cat:<11} ", "title"),
                (leaf, "dim"),
            )
        )
    more = 0 if limit is None else len(order) - limit
    if more > 0:
        out.append(((f"+{more} more processes sampled", "dim"),))
    if left_out:
        out.append(((f"+{left_out} processes of the tree not sampled (limit reached)", "warn"),))
    return out
