"""The process sampler against real child processes; GPU lists are fakes (no GPU here)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from attach_workloads import (
    CPU_LOOP,
    DISK_READER,
    EXIT_ON_USR1,
    FDS_AND_SWITCHES,
    PARENT_WITH_WORKERS,
    SLEEPER,
    ZOMBIE_CHILD,
    fs_type,
)
from conftest import Spawn

from perftui.core import details
from perftui.core.specs import REGISTRY
from perftui.samplers.base import Values
from perftui.samplers.pids import gpu_pid_note, host_pid, read_nspid, validate_pid
from perftui.samplers.process import ProcessSampler, attach_samplers
from perftui.samplers.runner import SamplerRunner
from perftui.samplers.stacks import StackSampler
from perftui.store.metric_store import MetricStore
from tests.polling import wait_for

PROC_FIX = Path(__file__).resolve().parent / "fixtures" / "proc"


def two_ticks(s: ProcessSampler, gap: float = 0.6) -> tuple[Values, Values]:
    first = s.sample()
    time.sleep(gap)
    return first, s.sample()


def test_cpu_loop(spawn: Spawn) -> None:
    p = spawn(CPU_LOOP)
    s = ProcessSampler(p.pid, 0.5)
    ps = psutil.Process(p.pid)
    c0, t0 = sum(ps.cpu_times()[:2]), time.monotonic()
    first, v = two_ticks(s, 1.0)
    c1, t1 = sum(ps.cpu_times()[:2]), time.monotonic()
    expected = (c1 - c0) / (t1 - t0) * 100.0  # measured around the two ticks, so a bit wider
    # counters become rates: nothing on the first tick
    for key in ("proc.cpu", "proc.read_bytes_per_s", "proc.ctx_voluntary_per_s", "proc.runq_wait"):
        assert key not in first
    assert first["proc.procs"] == 1.0 and first["proc.rss_bytes"] > 1e6
    # ~one core on an idle machine; other tests share the 2 cores, so compare with psutil's own figure
    assert 0 < v["proc.cpu"] < 105, v
    assert abs(v["proc.cpu"] - expected) < max(10.0, 0.3 * expected), (v["proc.cpu"], expected)
    assert v["proc.cpu_max_thread"] == v["proc.cpu"]
    assert v["proc.threads"] == 1.0
    assert 0 < first["proc.uss_bytes"] <= first["proc.rss_bytes"]
    assert "proc.uss_bytes" not in v  # read every USS_PERIOD_S (smaps_rollup is costly)
    assert v["proc.runq_wait"] >= 0.0
    assert all(REGISTRY.get(k) is not None for k in v), [k for k in v if REGISTRY.get(k) is None]
    info = s.details()["proc.info"]
    assert info["pid"] == p.pid and info["status"] == "running" and info["username"]
    assert info["cmdline"][0].endswith("python") or "python" in info["name"]
    tree = s.details()["proc.tree"]
    assert [r["pid"] for r in tree] == [p.pid] and tree[0]["ppid"] == os.getpid()
    assert json.loads(json.dumps(s.details())) == s.details()  # plain data: snapshot --json, recorder
    assert set(tree[0]) == {
        "pid",
        "ppid",
        "name",
        "cmdline",
        "cpu",
        "rss",
        "threads",
        "state",
        "gpu_mem_bytes",
    }


def test_parent_with_workers(spawn: Spawn) -> None:
    p = spawn(PARENT_WITH_WORKERS)
    s = ProcessSampler(p.pid, 0.5)
    _, v = two_ticks(s, 1.0)
    tree = s.details()["proc.tree"]
    assert v["proc.procs"] == 3.0 and len(tree) == 3
    kids = [r for r in tree if r["pid"] != p.pid]
    parent = next(r for r in tree if r["pid"] == p.pid)
    assert {r["ppid"] for r in kids} == {p.pid}
    # the CPU-bound workers use more than the sleeping parent (absolute figures depend on the load)
    assert all(r["cpu"] is not None and r["cpu"] > parent["cpu"] for r in kids), tree
    assert v["proc.cpu"] == pytest.approx(sum(r["cpu"] for r in tree if r["cpu"] is not None))
    assert v["proc.cpu_max_thread"] == pytest.approx(max(r["cpu"] for r in tree if r["cpu"] is not None))
    assert v["proc.rss_bytes"] == sum(r["rss"] for r in tree)
    assert v["proc.threads"] == sum(r["threads"] for r in tree)


def test_zombie_child_in_tree(spawn: Spawn) -> None:
    p = spawn(ZOMBIE_CHILD)
    s = ProcessSampler(p.pid, 0.5)
    _, v = two_ticks(s, 0.3)
    zombies = [r for r in s.details()["proc.tree"] if r["state"] == "zombie"]
    assert len(zombies) == 1 and v["proc.procs"] == 2.0
    assert zombies[0]["cpu"] is None and zombies[0]["rss"] is None


def test_disk_read_rate(spawn: Spawn, tmp_path: Path) -> None:
    if fs_type(tmp_path) in ("tmpfs", "ramfs"):
        pytest.skip(f"{tmp_path} is on {fs_type(tmp_path)}: reads never reach a disk there")
    path = tmp_path / "read.bin"
    try:
        with open(path, "wb") as f:
            f.write(os.urandom(32 << 20))
        p = spawn(DISK_READER, str(path))
        s = ProcessSampler(p.pid, 0.5)
        _, v = two_ticks(s, 0.5)
        assert v["proc.read_bytes_per_s"] > 1e6, v
    finally:
        path.unlink(missing_ok=True)


def test_fds_and_context_switches(spawn: Spawn) -> None:
    p = spawn(FDS_AND_SWITCHES)
    s = ProcessSampler(p.pid, 0.5)
    _, v = two_ticks(s, 0.5)
    assert v["proc.sockets"] == 3.0
    assert v["proc.open_files"] >= 2.0  # the two temp files (plus /dev/null stdio)
    assert v["proc.ctx_voluntary_per_s"] > 100, v  # ~1 kHz sleeps
    assert v["proc.ctx_involuntary_per_s"] >= 0


def test_exit_with_status_while_attached(spawn: Spawn) -> None:
    p = spawn(EXIT_ON_USR1)  # exits (status 3) when told: after the first samples, not on a timer
    store = MetricStore()
    samplers = attach_samplers(p.pid, 0.2, stack_rate=5)
    proc_sampler = next(s for s in samplers if s.name == "process")
    ticks = [0]
    sample = proc_sampler.sample

    def counted() -> Values:
        ticks[0] += 1
        return sample()

    proc_sampler.sample = counted  # type: ignore[method-assign]
    runner = SamplerRunner(store, samplers)
    runner.start()
    try:
        assert wait_for(lambda: "proc.rss_bytes" in store)
        os.kill(p.pid, signal.SIGUSR1)
        # it exited (a zombie: our child, not yet reaped)
        assert wait_for(lambda: (store.detail("proc.info") or {}).get("status") == "zombie")
        assert store.detail("proc.info")["exit_code"] == 3
        p.wait()

        def reported_exited() -> bool:
            st, stacks = store.status("process"), store.status("stacks")
            return (
                st is not None
                and not st.available
                and stacks is not None
                and not stacks.available
                and store.detail("proc.info")["status"] == "exited"
            )

        assert wait_for(reported_exited)
        st = store.status("process")
        assert st is not None and st.reason is not None
        assert st.reason.startswith(f"process {p.pid} exited at ") and st.reason.endswith("(status 3)")
        assert store.detail("proc.info")["exit_code"] == 3
        assert "exited" in (store.status("stacks").reason or "")  # type: ignore[union-attr]
        # samples so far stay in the store, and nothing new arrives in the next ticks
        n = len(store.series("proc.rss_bytes")[1])
        assert n >= 1
        seen = ticks[0]
        assert wait_for(lambda: ticks[0] >= seen + 2)
        assert len(store.series("proc.rss_bytes")[1]) == n
    finally:
        runner.stop()


def test_killed_process_not_our_child() -> None:
    # started through a shell that reaps it: the exit status is not ours to know
    import subprocess

    sh = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
    try:
        assert sh.stdout is not None
        pid = int(sh.stdout.readline())
        s = ProcessSampler(pid, 0.5)
        assert s.sample()["proc.procs"] == 1.0
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: not psutil.pid_exists(pid), timeout=5)
        assert s.sample() == {}
        reason = s.availability().reason or ""
        assert reason.startswith(f"process {pid} exited at ") and reason.endswith("(status unknown)")
    finally:
        sh.kill()
        sh.wait()


def test_pid_reuse_is_an_exit(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    s = ProcessSampler(p.pid, 0.5)
    assert s.sample()
    # as if the PID now named a process started at another time
    assert s.watch.create_time is not None
    s.watch.create_time -= 1000.0
    assert s.sample() == {}
    assert "exited" in (s.availability().reason or "")


def test_gpu_processes_matched_by_host_pid(spawn: Spawn) -> None:
    parent = spawn(PARENT_WITH_WORKERS)
    kids = psutil.Process(parent.pid).children()
    assert len(kids) == 2
    entries: list[dict[str, Any]] = [
        {"gpu": 0, "pid": parent.pid, "used_bytes": 2_000_000_000, "sm_util": 60.0, "mem_util": 20.0},
        {"gpu": 1, "pid": kids[0].pid, "used_bytes": 500_000_000, "sm_util": 10.0, "mem_util": 5.0},
        {"gpu": 0, "pid": 1, "used_bytes": 7_000_000_000, "sm_util": 30.0, "mem_util": 5.0},  # not ours
    ]
    s = ProcessSampler(parent.pid, 0.5, gpu_processes=lambda: entries)
    v = s.sample()
    assert v["proc.gpu_mem_bytes"] == 2_500_000_000
    assert v["proc.gpu.0.mem_bytes"] == 2_000_000_000 and v["proc.gpu.1.mem_bytes"] == 500_000_000
    assert v["proc.gpu.0.sm_util"] == 60.0 and v["proc.gpu.1.sm_util"] == 10.0
    assert v["proc.gpu_sm_util"] == pytest.approx(35.0)  # mean over the GPUs the tree uses
    assert all(REGISTRY.get(k) is not None for k in v), [k for k in v if REGISTRY.get(k) is None]
    rows = {r["pid"]: r for r in s.details()["proc.tree"]}
    assert rows[parent.pid]["gpu_mem_bytes"] == 2_000_000_000
    assert rows[kids[0].pid]["gpu_mem_bytes"] == 500_000_000
    assert rows[kids[1].pid]["gpu_mem_bytes"] is None
    # the typed readers (core/details.py) give back what the sampler published, key for key
    store = MetricStore()
    for key, value in s.details().items():
        store.set_detail(key, value)
    assert details.proc_tree(store) == s.details()["proc.tree"]
    assert details.proc_info(store) == s.details()["proc.info"]


def test_no_gpu_list_means_no_gpu_keys(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    v = ProcessSampler(p.pid, 0.5, gpu_processes=lambda: None).sample()
    assert not any(k.startswith("proc.gpu") for k in v)


# -- NSpid rule (fixture status files) -----------------------------------------
def test_nspid_rule_from_fixtures() -> None:
    root = str(PROC_FIX)
    # through the host's /proc: NSpid lists host PID first, then the container PID
    assert read_nspid(4242, root) == [4242, 17]
    assert host_pid(4242, root) == 4242
    # through a container's private /proc only the container PID is visible
    assert read_nspid(17, root) == [17]
    assert host_pid(17, root) == 17
    # no NSpid line (old kernel): the PID itself
    assert read_nspid(99, root) is None and host_pid(99, root) == 99
    assert host_pid(12345, root) == 12345  # no such entry
    # GPU PIDs none of which this /proc shows: say why matching cannot work
    note = gpu_pid_note({4243, 5000}, root)
    assert note is not None and "host PIDs" in note
    assert gpu_pid_note({4242}, root) is None
    assert gpu_pid_note(set(), root) is None


def test_host_pid_on_this_machine() -> None:
    assert host_pid(os.getpid()) == os.getpid()


# -- validate_pid ---------------------------------------------------------------
@pytest.mark.parametrize("bad", ["abc", "", "-3", 0, -1, 2.5, None, True])
def test_validate_pid_rejects_non_positive_ints(bad: object) -> None:
    msg = validate_pid(bad)
    assert msg is not None and "expected a positive integer" in msg


def test_validate_pid_missing() -> None:
    assert validate_pid(4_194_304 + 11) == f"no process with PID {4_194_304 + 11}"


def test_validate_pid_ok(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    assert validate_pid(p.pid) is None
    assert validate_pid(str(p.pid)) is None


def test_validate_pid_other_user(monkeypatch: pytest.MonkeyPatch) -> None:
    # this machine runs everything as root: act as an unprivileged user looking at PID 1 (root's)
    monkeypatch.setattr(os, "geteuid", lambda: 65534)
    msg = validate_pid(1)
    assert msg is not None and msg.startswith("no permission to attach to PID 1")
    assert "root" in msg


def test_process_sampler_for_missing_pid() -> None:
    s = ProcessSampler(4_194_304 + 13, 0.5)
    assert not s.availability().available
    assert s.sample() == {}


def test_attach_samplers_shape(spawn: Spawn) -> None:
    p = spawn(SLEEPER)
    samplers = attach_samplers(p.pid, 0.5)
    assert [s.name for s in samplers] == ["process", "stacks"]
    assert isinstance(samplers[1], StackSampler)
    assert samplers[0].watch is samplers[1].watch  # type: ignore[attr-defined]
    for s in samplers:
        s.close()
