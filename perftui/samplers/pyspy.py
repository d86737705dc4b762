"""Talking to the py-spy binary and reading its output.

The thread samples (`Frame`, `ThreadSample`), the parsers of `py-spy dump --json`
(`parse_dump_json`) and `py-spy record --format raw` (`parse_raw`), one clear message for a failed
run (`explain_failure`, `PySpyError` and the hints), finding the binary (`find_py_spy`) and one
dump (`run_dump`). py-spy always runs as a subprocess with an argument list: no shell, never sudo.
The record slices are started by the sampler (`perftui.samplers.stacks`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from perftui.core.sanitize import clean, clean_text

INSTALL_HINT = "install it in perftui's environment with `pip install py-spy`"
PTRACE_HINT = (
    "py-spy was refused ptrace on PID {pid}: run perftui as root, or as the same user with "
    "`sysctl kernel.yama.ptrace_scope=0`, or give the container SYS_PTRACE "
    "(docker run --cap-add SYS_PTRACE); perftui never runs sudo"
)
# shown after "stacks unavailable: " (the pane, snapshot): says it once
NOT_PYTHON = "not a Python process (process metrics still shown)"


# -- data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    name: str
    filename: str
    line: int | None


@dataclass
class ThreadSample:
    pid: int
    tid: int | None
    thread_name: str
    active: bool | None
    owns_gil: bool | None
    frames: list[Frame]  # innermost first
    category: str = "compute"
    weight: float = 1  # raw lines carry counts; attribute_states splits them (fractions)
    extra: dict[str, Any] = field(default_factory=dict)


class PySpyError(Exception):
    """One-line, user-facing reason; `kind` tells the sampler whether retrying makes sense."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # missing | permission | not_python | no_process | failed


# -- parsing ------------------------------------------------------------------
def parse_dump_json(text: str) -> list[ThreadSample]:
    """Threads of `py-spy dump --json` output (a list of thread objects)."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("py-spy dump --json: expected a list of threads")
    out: list[ThreadSample] = []
    for t in data:
        frames = [
            Frame(
                clean(str(f.get("name", "?"))),
                clean_text(str(f.get("filename") or f.get("short_filename") or "?")),
                f.get("line"),
            )
            for f in t.get("frames") or []
        ]
        pid = int(t.get("pid") or 0)
        tid = t.get("os_thread_id")
        name = t.get("thread_name")  # null until the target imports threading
        if not name:
            name = "MainThread" if tid is not None and tid == pid else f"thread {tid or t.get('thread_id')}"
        out.append(
            ThreadSample(
                pid=pid,
                tid=tid,
                thread_name=clean(str(name)),
                active=t.get("active"),
                owns_gil=t.get("owns_gil"),
                frames=frames,
            )
        )
    return out


def _parse_raw_frame(text: str) -> Frame:
    # "name (file:line)" ; file may contain spaces and colons
    text = clean_text(text)  # a function or file name is the traced program's: no raw escapes
    if text.endswith(")") and " (" in text:
        name, loc = text[:-1].split(" (", 1)
        fname, _, line = loc.rpartition(":")
        if fname and line.isdigit():
            return Frame(name, fname, int(line))
        return Frame(name, loc, None)
    return Frame(text, "?", None)


def _raw_thread(head: str) -> tuple[int | None, str] | None:
    """(tid, name) of a raw "thread (TID): NAME" or "thread (TID)" frame; None for any other frame."""
    if not head.startswith("thread ("):
        return None
    inner, sep, name = head[len("thread (") :].partition(")")
    if not sep or (name and not name.startswith(": ")):
        return None
    try:
        tid = int(inner, 16) if inner.lower().startswith("0x") else int(inner)
    except ValueError:
        return None
    return tid, name[2:]


def parse_raw(text: str, pid: int = 0) -> list[ThreadSample]:
    """Collapsed stacks of `py-spy record --format raw` ("outer;...;leaf COUNT"), one entry per line.

    With `--threads` each line starts with "thread (TID): NAME", or "thread (TID)" for a thread
    that has no name yet (then `tid` is set and the name follows `parse_dump_json`'s rule).
    Raw output has no thread state: `active` and `owns_gil` are None.
    """
    out: list[ThreadSample] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            continue
        parts = stack.split(";")
        tid: int | None = None
        tname = ""
        thread = _raw_thread(parts[0])
        if thread is not None:
            tid, tname = thread[0], clean(thread[1])
            parts = parts[1:]
            if not tname:
                tname = "MainThread" if tid == pid else f"thread {tid}"
        frames = [_parse_raw_frame(p) for p in reversed(parts)]
        out.append(ThreadSample(pid, tid, tname, None, None, frames, weight=int(count)))
    return out


def summarize_stderr(stderr: str) -> str:
    """The first meaningful line of py-spy's stderr (drops backtraces and blank lines)."""
    for line in stderr.splitlines():
        s = line.strip()
        if not s or s.startswith(("Stack backtrace", "Caused by")) or s[:1].isdigit():
            continue
        return s.removeprefix("Error: ")[:200]
    return "no error output"


def explain_failure(pid: int, returncode: int, stderr: str) -> PySpyError:
    """Turn a failed py-spy run into one clear message."""
    low = stderr.lower()
    if "permission denied" in low or "operation not permitted" in low or "os error 1)" in low:
        return PySpyError(PTRACE_HINT.format(pid=pid), "permission")
    if "failed to find python version" in low or "doesn't appear to be a python" in low:
        return PySpyError(NOT_PYTHON, "not_python")
    if "no such process" in low or "check that the process is running" in low:
        return PySpyError(f"no process with PID {pid}", "no_process")
    return PySpyError(f"py-spy failed (exit {returncode}): {summarize_stderr(stderr)}", "failed")


# -- running ------------------------------------------------------------------
def find_py_spy() -> str | None:
    """The py-spy the py-spy package installed next to this interpreter, else the one on PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("py-spy")


def run_dump(binary: str, pid: int, *, nonblocking: bool = True, timeout: float = 10.0) -> list[ThreadSample]:
    """One `py-spy dump --json` of `pid` (its threads only: with `--subprocesses` the JSON output
    still lists the parent's threads alone, so the sampler dumps each process of a tree)."""
    args = [binary, "dump", "--pid", str(pid), "--json"]
    if nonblocking:
        args.append("--nonblocking")
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise PySpyError(f"py-spy not found at {binary}: {INSTALL_HINT}", "missing") from exc
    except PermissionError as exc:
        raise PySpyError(f"py-spy at {binary} cannot be executed ({exc.strerror})", "missing") from exc
    except subprocess.TimeoutExpired as exc:
        raise PySpyError(f"py-spy dump did not answer within {timeout:.0f} s", "failed") from exc
    except OSError as exc:
        raise PySpyError(f"py-spy at {binary} cannot be executed ({exc})", "missing") from exc
    if proc.returncode != 0:
        raise explain_failure(pid, proc.returncode, proc.stderr + proc.stdout)
    try:
        return parse_dump_json(proc.stdout)
    except (ValueError, TypeError, AttributeError) as exc:
        raise PySpyError(f"py-spy output not understood: {exc}", "failed") from exc
