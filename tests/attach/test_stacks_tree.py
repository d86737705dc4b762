"""Stacks of the whole tree: a parent sleeping while 3 `multiprocessing` workers compute, sampled
with the real py-spy; the stacks show the workers' busy frames labelled by PID, and the pane and
the diagnosis quote the same sample count."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from conftest import Spawn

from perftui.core.details import stack_threads
from perftui.core.stack_categories import classify_frames
from perftui.diagnosis.checks_stack import share_rule
from perftui.diagnosis.engine import window_from_store
from perftui.diagnosis.rules import RULES_BY_ID
from perftui.samplers.process import ProcessSampler
from perftui.samplers.pyspy import find_py_spy
from perftui.samplers.stacks import StackSampler
from perftui.store.metric_store import MetricStore
from perftui.ui.widgets.process_pane import ProcessPane
from perftui.ui.widgets.process_tree import stack_lines
from tests.polling import wait_for
from tests.ui.conftest import make_app

pytestmark = pytest.mark.skipif(find_py_spy() is None, reason="py-spy is not installed")

# a parent sleeping in time.sleep while 3 forked workers spin in work() (a DataLoader-like job)
THREE_WORKERS = """
import multiprocessing as mp, os, subprocess, sys, time
def work():
    parent = os.getppid()
    s = 0
    while os.getppid() == parent:  # stop when orphaned
        for i in range(100000):
            s += i
if __name__ == "__main__":
    mp.set_start_method("fork")
    ps = [mp.Process(target=work, daemon=True) for _ in range(int(sys.argv[1]))]
    for p in ps:
        p.start()
    if len(sys.argv) > 2:  # a child that is no Python process
        subprocess.Popen(["sleep", "60"])
    time.sleep(0.3)
    print("ready", flush=True)
    while True:
        time.sleep(0.5)
"""

Make = Callable[..., StackSampler]


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Make]:
    """Record-backend samplers, closed after the test; no slice folder may be left."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    made: list[StackSampler] = []

    def make(pid: int, **kw: object) -> StackSampler:
        kw.setdefault("background", False)
        s = StackSampler(pid, 0.5, **kw)  # type: ignore[arg-type]
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
    assert list(tmp.iterdir()) == []


def process_rows(lines: list[str]) -> list[str]:
    """The stacks view's process rows: those under its "PID process" head."""
    at = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["PID", "process"])
    rows = []
    for ln in lines[at + 1 :]:
        if not (ln.split() and ln.split()[0].isdigit()):
            break
        rows.append(ln)
    return rows


def workers_of(pid: int, n: int) -> set[int]:
    assert wait_for(lambda: len(psutil.Process(pid).children()) >= n, 5.0)
    return {c.pid for c in psutil.Process(pid).children() if c.name() != "sleep"}


def store_of(s: StackSampler, *samplers: ProcessSampler) -> MetricStore:
    store = MetricStore()
    for ts, sampler in enumerate((*samplers, s)):
        store.append(1000.0 + ts, {k: v for k, v in sampler.sample().items() if v is not None})
        for key, value in sampler.details().items():
            store.set_detail(key, value)
        store.set_status(sampler.name, sampler.availability())
    return store


def test_the_workers_busy_frames_labelled_by_pid(spawn: Spawn, record: Make) -> None:
    p = spawn(THREE_WORKERS, "3")
    workers = workers_of(p.pid, 3)
    assert len(workers) == 3
    s = record(p.pid, rate=10)  # the default backend: a py-spy record per process of the tree
    s.record_slice(2)
    store = store_of(s, ProcessSampler(p.pid))
    threads = stack_threads(store)
    assert {t["pid"] for t in threads} == {p.pid} | workers, threads
    by_pid = {t["pid"]: t for t in threads}
    assert by_pid[p.pid]["category"] == "idle"
    for worker in workers:
        row = by_pid[worker]
        assert row["category"] == "compute" and (row["leaf"] or "").startswith("work ("), row
    assert s.details()["stack.window"]["processes"] == 4
    shares = {
        k.removeprefix("stack.share."): v or 0.0
        for k, v in s.sample().items()
        if k.startswith("stack.share.")
    }
    assert shares["compute"] > shares["idle"], shares  # 3 of the 4 processes compute: not "idle 100 %"
    assert s.details()["stack.top"][0]["function"] == "work"

    # the stacks pane: one row per process, the attached one first, each worker busy in work()
    text = ["".join(part for part, _ in line) for line in stack_lines(store)]
    rows = process_rows(text)
    assert (
        next(int(r.split()[0]) for r in rows) == p.pid
        and {int(r.split()[0]) for r in rows} == {p.pid} | workers
    )
    for r in rows:
        assert r.split()[1] == psutil.Process(int(r.split()[0])).name()
        if int(r.split()[0]) in workers:
            assert " compute " in r and " work <string>:" in r, r

    # the pane's head and the diagnosis quote the same count, with the same hint when it is low
    samples = store.latest("stack.samples")
    assert samples is not None and samples > 0
    head = text[0]
    quoted = head[head.index("(") + 1 : head.index(")")]
    window = window_from_store(store, 30.0)
    check = share_rule("compute", "computing", "")  # the share rule's wording, on the real window
    [hit] = check(RULES_BY_ID["stack.gil"], window, False)
    note = hit.evidence[0][hit.evidence[0].index("(") + 1 : hit.evidence[0].rindex(")")]
    count = quoted.split(" · ")[0]
    assert note.startswith(f"{count} stack samples") and count == f"{samples:.0f}"
    assert ("few: shares ±" in quoted) == ("few: shares ±" in note) == (samples < 100)


def test_dump_backend_dumps_each_process_of_the_tree(spawn: Spawn, record: Make) -> None:
    p = spawn(THREE_WORKERS, "3")
    workers = workers_of(p.pid, 3)
    s = record(p.pid, backend="dump")
    s.sample()
    assert {t["pid"] for t in s.details()["stack.threads"]} == {p.pid} | workers


def test_no_python_child_is_skipped_and_the_limit_is_said(spawn: Spawn, record: Make) -> None:
    p = spawn(THREE_WORKERS, "1", "with-sleep")
    assert wait_for(lambda: len(psutil.Process(p.pid).children()) >= 2, 5.0)
    (worker,) = workers_of(p.pid, 2)
    s = record(p.pid, rate=5)
    s.record_slice(1)
    s.sample()
    assert s.availability().available  # py-spy failing on `sleep` is not the sampler's error
    assert {t["pid"] for t in s.details()["stack.threads"]} == {p.pid, worker}
    assert s.tree.pids() == [p.pid, worker]  # `sleep` is left out from then on
    # at most 1 process: the attached one, and the pane says how many were left out
    lone = record(p.pid, rate=5, max_processes=1)
    lone.record_slice(1)
    lone.sample()
    assert {t["pid"] for t in lone.details()["stack.threads"]} == {p.pid}
    assert lone.details()["stack.window"]["processes_left_out"] == 2
    text = "\n".join("".join(part for part, _ in line) for line in stack_lines(store_of(lone)))
    assert "+2 processes of the tree not sampled (limit reached)" in text


async def test_pilot_stacks_view_shows_the_workers(spawn: Spawn, record: Make) -> None:
    p = spawn(THREE_WORKERS, "3")
    workers = workers_of(p.pid, 3)
    s = record(p.pid, rate=10)
    s.record_slice(2)
    proc = ProcessSampler(p.pid)
    app, store, _ = make_app(1)
    assert store.last_ts is not None
    for sampler in (proc, s):
        store.append(store.last_ts, {k: v for k, v in sampler.sample().items() if v is not None})
        for key, value in sampler.details().items():
            store.set_detail(key, value)
        store.set_status(sampler.name, sampler.availability())
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        assert pane.view == "stacks"
        rows = process_rows(list(pane.lines))
        assert {int(r.split()[0]) for r in rows} == {p.pid} | workers
        assert all(" compute " in r for r in rows if int(r.split()[0]) in workers)


def test_a_forked_worker_computing_is_not_a_multiprocessing_wait() -> None:
    """A forked worker runs its target under Popen._launch (popen_fork.py), a Pool task under
    pool.worker: only the blocking calls of multiprocessing are waits."""
    mp = "/usr/lib/python3.11/multiprocessing"
    worker = [
        ("work", "/job.py"),
        ("BaseProcess.run", f"{mp}/process.py"),
        ("BaseProcess._bootstrap", f"{mp}/process.py"),
        ("Popen._launch", f"{mp}/popen_fork.py"),
        ("Popen.__init__", f"{mp}/popen_fork.py"),
        ("<module>", "/job.py"),
    ]
    assert classify_frames(worker) == (None, False)  # the thread state decides: compute when running
    assert classify_frames([("square", "/job.py"), ("worker", f"{mp}/pool.py")]) == (None, False)
    assert classify_frames([("Popen.wait", f"{mp}/popen_fork.py"), ("<module>", "/job.py")]) == (None, True)
    assert classify_frames([("Connection.recv", f"{mp}/connection.py")]) == (None, True)
    assert classify_frames([("ApplyResult.get", f"{mp}/pool.py"), ("Pool.map", f"{mp}/pool.py")]) == (
        None,
        True,
    )
