"""Culprits on real processes the test starts (CPU spinners, a writer, an allocator), read by the real
process table (samplers/proctable.py) over this machine's /proc; host numbers come from fixtures so
the rule fires whatever else the shared machine runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from perftui.diagnosis.engine import diagnose, window_from_store
from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.render import diagnosis_json
from perftui.diagnosis.signals import pct
from perftui.samplers.proctable import ProcTable
from perftui.store.metric_store import MetricStore
from tests.diagnosis.windows import findings, host
from tests.polling import wait_for

Spawn = Callable[..., subprocess.Popen[bytes]]
GPU_OR_PYTHON = re.compile(r"GPU|CUDA|DataLoader|GIL|Python|py-spy|torch|tokenizers")


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()


class Live:
    """The real process table, one pass at least `gap` seconds after the last (rates need two)."""

    def __init__(self, gap: float = 0.5) -> None:
        self.table, self.gap = ProcTable(), gap
        self.last = time.monotonic()
        self.table.sample(self.last)
        self.detail: dict[str, Any] = {}

    def sample(self) -> dict[str, Any] | None:
        now = time.monotonic()
        if now - self.last < self.gap:
            return None
        rows = sorted(self.table.sample(now), key=lambda r: -r.cpu_pct)
        self.last = now
        self.detail = {"ts": time.time(), "rows": [asdict(r) for r in rows]}
        return self.detail

    def until(self, cond: Callable[[list[dict[str, Any]]], bool], timeout: float = 40.0) -> bool:
        return wait_for(lambda: (d := self.sample()) is not None and cond(d["rows"]), timeout=timeout)


def _top(rows: list[dict[str, Any]], field: str, n: int) -> set[int]:
    return {r["pid"] for r in sorted(rows, key=lambda r: -r[field])[:n] if r[field] >= 10.0}


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum not installed")
def test_cpu_bound_names_the_spinners_and_advice_fits_them(spawn: Spawn) -> None:
    pids = {spawn("sha256sum", "/dev/zero").pid, spawn("sha256sum", "/dev/zero").pid}
    live = Live()
    assert live.until(lambda rows: _top(rows, "cpu_pct", 2) == pids), "the spinners never led the table"
    f = findings(host(cpu__util=99, cpu__core_max__util=100), {"proctable": live.detail})[0]
    assert f.rule == "host.cpu_saturated"
    assert {c.pid for c in f.culprits[:2]} == pids
    assert all(c.name == "sha256sum" and not c.python and c.resource == "cpu" for c in f.culprits[:2])
    a, b = f.culprits[:2]
    # the line shows each culprit's CPU % as the engine formats it (round(share) differed at 98.5)
    assert f.evidence[1].startswith(f"sha256sum (PID {a.pid}) {pct(a.value)}, sha256sum (PID {b.pid}) ")
    # a box without GPUs, processes that are not Python: no GPU, DataLoader, GIL or py-spy advice
    assert f.suggestions and not [s for s in f.suggestions if GPU_OR_PYTHON.search(s)]
    assert f.next_step == f"perf top -p {a.pid}"
    out = diagnosis_json(Diagnosis(f.verdict, f.confidence, (f,)))
    assert {(c["pid"], c["name"]) for c in out["culprits"][:2]} == {(p, "sha256sum") for p in pids}
    assert all(c["share"] >= 10.0 for c in out["culprits"])


def test_a_python_spinner_gets_python_advice_and_py_spy(spawn: Spawn) -> None:
    pid = spawn(sys.executable, "-c", "while True: pass").pid
    live = Live()
    assert live.until(lambda rows: _top(rows, "cpu_pct", 1) == {pid}), "the spinner never led the table"
    f = findings(host(cpu__util=99, cpu__core_max__util=100), {"proctable": live.detail})[0]
    assert f.culprits[0].pid == pid and f.culprits[0].python
    assert f"(PID {pid}, Python)" in f.evidence[1]
    assert f.next_step == f"py-spy top --pid {pid}"
    assert any("DataLoader" in s for s in f.suggestions)
    assert not any("GPU" in s for s in f.suggestions)  # still no GPU on this box


WRITER = """
import os, sys
buf = b"x" * (4 << 20)
while True:
    with open(sys.argv[1], "wb") as f:
        f.write(buf)
        f.flush()
        os.fsync(f.fileno())
"""


def test_io_bound_names_the_writer(spawn: Spawn, tmp_path: Path) -> None:
    pid = spawn(sys.executable, "-c", WRITER, str(tmp_path / "out.bin")).pid
    live = Live()

    def writer_leads(rows: list[dict[str, Any]]) -> bool:
        top = max(rows, key=lambda r: r["disk_bps"] or 0.0)  # None: /proc/PID/io not readable
        return bool(top["pid"] == pid and top["disk_bps"] >= 1024 * 1024)

    assert live.until(writer_leads), "the writer never led the disk traffic"
    f = findings(host(psi__io__some10=30), {"proctable": live.detail})[0]
    assert f.rule == "host.io_pressure"
    assert f.culprits[0].pid == pid and f.culprits[0].resource == "disk"
    assert re.search(rf"\(PID {pid}, Python\) [\d.]+ [kMG]?B/s \(\d+ % of all\)", f.evidence[1])
    assert f.next_step == f"pidstat -d -p {pid} 1"


ALLOCATOR = """
import time
held = []
while len(held) < 60:
    held.append(b"\\x01" * (8 << 20))
    time.sleep(0.1)
time.sleep(600)
"""


def test_memory_pressure_names_the_fastest_growing_process(spawn: Spawn) -> None:
    pid = spawn(sys.executable, "-c", ALLOCATOR).pid
    live, store = Live(gap=1.0), MetricStore()
    seen: list[Any] = []

    def grower_leads(_rows: list[dict[str, Any]]) -> bool:
        now = time.time()
        store.append(now, {**host(psi__memory__some10=30), "mem.total_bytes": 16.0 * 2**30})
        store.set_detail("proctable", live.detail)
        w = window_from_store(store, 10.0)  # keeps the older table: growth over the window
        f = diagnose(w)[0]
        seen[:] = [f]
        return bool(f.culprits and f.culprits[0].pid == pid and (f.culprits[0].growth or 0) > 1e6)

    assert live.until(grower_leads), f"the allocator never led: {seen}"
    f = seen[0]
    assert f.rule == "host.memory_pressure"
    assert re.search(
        rf"\(PID {pid}, Python\) [\d.]+ [kMG]iB resident, growing [\d.]+ [kMG]?B/s", f.evidence[1]
    )
    assert f.next_step.startswith(f"pidstat -r -p {pid} 1")
