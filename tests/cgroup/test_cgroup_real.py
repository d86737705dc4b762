"""Real cgroups made by the test (cgroup v1 `cpu`/`cpuacct`/`memory`, or v2, writable as root):
a spinner under a 0.2-CPU quota and a file re-reader under a small memory limit; `perftui diagnose`
names the limit, with and without `--pid`. Cgroups are removed in teardown, even on failure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perftui.samplers.cgroup_tree import load_mounts
from tests.cli_run import perftui
from tests.polling import wait_for

MiB = 1024**2


class RealCgroup:
    """One test cgroup in each controller's hierarchy it needs (v1), or one v2 cgroup."""

    def __init__(self, controllers: tuple[str, ...]) -> None:
        self.name = f"perftui-test-{uuid.uuid4().hex[:8]}"
        m = load_mounts()
        self.dirs: dict[str, Path] = {}
        if any(c in m.v1 for c in controllers):
            for c in controllers:
                if c not in m.v1:
                    pytest.skip(f"cgroup v1 controller {c} is not mounted")
                self.dirs[c] = Path(m.v1[c][0]) / self.name
        elif m.v2:
            enabled = (Path(m.v2) / "cgroup.subtree_control").read_text().split()
            need = {"cpu", "memory"} & set(controllers)
            if not need <= set(enabled):
                pytest.skip(f"cgroup v2 root does not delegate {sorted(need - set(enabled))}")
            self.dirs["v2"] = Path(m.v2) / self.name
        else:
            pytest.skip("no cgroup filesystem mounted")
        for d in self.dirs.values():
            try:
                d.mkdir()
            except OSError as exc:
                self.remove()
                pytest.skip(f"cgroups are not writable here ({d}: {exc.strerror})")

    def write(self, controller: str, v1_file: str, v2_file: str, value: str) -> None:
        if "v2" in self.dirs:
            (self.dirs["v2"] / v2_file).write_text(value)
        else:
            (self.dirs[controller] / v1_file).write_text(value)

    def add(self, pid: int) -> None:
        for d in self.dirs.values():
            (d / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        for d in self.dirs.values():
            if d.exists():
                wait_for(lambda d=d: _rmdir(d), timeout=5)


def _rmdir(d: Path) -> bool:
    try:
        d.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("creating cgroups needs root")


@pytest.fixture
def quota_spinner() -> Iterator[int]:
    """A CPU spinner in a cgroup with a 0.2-CPU quota (20 ms per 100 ms period)."""
    _need_root()
    cg = RealCgroup(("cpu", "cpuacct"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        cg.write("cpu", "cpu.cfs_quota_us", "cpu.max", "20000" if "v2" not in cg.dirs else "20000 100000")
        proc = subprocess.Popen(
            [sys.executable, "-c", "while True: pass"], preexec_fn=lambda: cg.add(os.getpid())
        )
        yield proc.pid
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        cg.remove()


@pytest.fixture
def memory_rereader(tmp_path: Path) -> Iterator[int]:
    """A process holding 20 MiB and re-reading a 96 MiB file it wrote, in a cgroup limited to 32 MiB:
    its page cache is reclaimed at the limit over and over (the thrashing the issue describes)."""
    _need_root()
    cg = RealCgroup(("memory",))
    proc: subprocess.Popen[bytes] | None = None
    try:
        cg.write("memory", "memory.limit_in_bytes", "memory.max", str(32 * MiB))
        # it writes the file itself: page cache is charged to the cgroup that first reads or writes it
        code = (
            "import os, sys\n"
            "anon = bytearray(20 << 20)\n"
            "with open(sys.argv[1], 'wb') as f:\n"
            "    for _ in range(96): f.write(os.urandom(1 << 20))\n"
            "while True:\n"
            "    with open(sys.argv[1], 'rb') as f:\n"
            "        while f.read(1 << 20): pass\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "data.bin")],
            preexec_fn=lambda: cg.add(os.getpid()),  # in the cgroup before it runs
        )
        yield proc.pid
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        cg.remove()


def _diagnose(*extra: str) -> dict[str, Any]:
    out = perftui("diagnose", "--duration", "5", "--json", "--no-gpu", *extra, timeout=90)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _finding(result: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [f for f in result["findings"] if f["rule"] == rule]
    assert found, json.dumps(result["findings"], indent=1)[:3000]
    return found[0]


@pytest.mark.parametrize("attach", [True, False], ids=["with-pid", "box-wide"])
def test_quota_throttling_verdict(quota_spinner: int, attach: bool) -> None:
    result = _diagnose(*(["--pid", str(quota_spinner)] if attach else []))
    f = _finding(result, "cgroup.cpu_quota")
    assert f["verdict"] == "cpu-bound"
    assert "cpu-bound by its CPU quota: throttled in" in f["title"] and "at 0.2 CPU" in f["title"]
    assert "idle cores" in f["title"]
    assert f["next_step"].startswith("cat ") and f["next_step"].endswith("/cpu.stat")
    shown = subprocess.run(["bash", "-c", f["next_step"]], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and "nr_throttled" in shown.stdout, shown.stderr  # the real file
    assert result["findings"][0]["rule"] == "cgroup.cpu_quota"  # the verdict, not "nothing is saturated"


@pytest.mark.parametrize("attach", [True, False], ids=["with-pid", "box-wide"])
def test_memory_limit_verdict(memory_rereader: int, attach: bool) -> None:
    result = _diagnose(*(["--pid", str(memory_rereader)] if attach else []))
    f = _finding(result, "cgroup.memory_limit")
    assert f["verdict"] == "memory-bound"
    assert re.search(
        r"memory-bound at \d+ % of its 32(\.0)? MiB limit; the host has [\d.]+ GiB free", f["title"]
    )
    assert any("forced reclaim" in e for e in f["evidence"])
    shown = subprocess.run(["bash", "-c", f["next_step"]], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and re.search(r"^(max|cache) \d+", shown.stdout, re.M), shown.stderr
    assert result["findings"][0]["rule"] == "cgroup.memory_limit"


def test_recording_report_and_compare_carry_the_limits(quota_spinner: int, tmp_path: Path) -> None:
    """Metrics flow through the store into the recording; the report has the cgroup rows, the limits
    table and the verdict; compare judges throttling as a key metric (lower is better)."""
    rec = tmp_path / "rec.sqlite"
    out = perftui(
        "record", "--duration", "5", "--no-gpu", "--pid", str(quota_spinner), "-o", str(rec), timeout=90
    )
    assert out.returncode == 0, out.stderr
    rep = perftui("report", str(rec), "--format", "json", timeout=90)
    assert rep.returncode == 0, rep.stderr
    text = rep.stdout
    assert ".throttled_pct" in text and "cgroup.limits" in text
    assert "cpu-bound by its CPU quota" in text
    cmp = perftui("compare", str(rec), str(rec), "--format", "json", timeout=90)
    assert cmp.returncode == 0, cmp.stderr
    deltas = json.loads(cmp.stdout)
    flat = json.dumps(deltas)
    assert re.search(r'"cgroup\.perftui-test-[0-9a-f]+\.throttled_pct"', flat)


def test_snapshot_json_keys(quota_spinner: int) -> None:
    out = perftui("snapshot", "--json", "--no-gpu", "--pid", str(quota_spinner), timeout=60)
    assert out.returncode == 0, out.stderr
    snap = json.loads(out.stdout)
    name = snap["details"]["cgroup.attached"]
    assert name.startswith("perftui-test-")
    assert snap["details"]["cgroup.mode"] in ("v1", "v2", "hybrid")
    assert "in_container" in snap["details"]["cgroup.self"]
    assert snap["metrics"][f"cgroup.{name}.cpu_quota_cores"]["value"] == pytest.approx(0.2)


@pytest.fixture
def io_limited_writer(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A writer of direct (unbuffered) I/O in a cgroup limited to 4 MB/s of writes on the device
    under tmp_path: v1 blkio throttles only direct I/O in the writer's own context."""
    _need_root()
    m = load_mounts()
    dev_no = os.stat(tmp_path).st_dev
    dev = f"{os.major(dev_no)}:{os.minor(dev_no)}"
    if not Path(f"/sys/dev/block/{dev}").exists():
        pytest.skip(f"{tmp_path} is not on a block device ({dev})")
    if "blkio" not in m.v1 and m.v2:
        enabled = (Path(m.v2) / "cgroup.subtree_control").read_text().split()
        if "io" not in enabled:
            pytest.skip("cgroup v2 root does not delegate the io controller")
    cg = RealCgroup(("blkio",))
    proc: subprocess.Popen[bytes] | None = None
    try:
        try:
            cg.write("blkio", "blkio.throttle.write_bps_device", "io.max", f"{dev} 4000000")
        except OSError as exc:
            pytest.skip(f"the kernel refuses an I/O limit on {dev}: {exc.strerror}")
        code = (
            "import mmap, os, sys\n"
            "buf = mmap.mmap(-1, 1 << 20)\n"
            "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)\n"
            "while True:\n"
            "    os.lseek(fd, 0, 0)\n"
            "    for _ in range(16): os.write(fd, buf)\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "direct.bin")],
            preexec_fn=lambda: cg.add(os.getpid()),
        )
        yield proc.pid, dev
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        cg.remove()


def test_io_limit_verdict_and_cgroup_block(io_limited_writer: tuple[int, str]) -> None:
    pid, dev = io_limited_writer
    result = _diagnose("--pid", str(pid))
    f = _finding(result, "cgroup.io_limit")
    assert f["verdict"] == "io-bound"
    assert re.search(rf"io-bound by its I/O limit: \d+ % of its 4\.0 MB/s write limit on {dev}\b", f["title"])
    shown = subprocess.run(["bash", "-c", f["next_step"]], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and f"{dev} " in shown.stdout, shown.stderr  # the real limit file
    block = result["cgroup"]
    # v1: named by its cpu or memory cgroup (the test runner's own may be one); the limit's own
    # directory is the blkio one the next step reads
    assert block["of"] == "attached" and block["name"]
    assert "perftui-test-" in f["next_step"]
    assert (
        block["io_limits"]["wbps"]["limit"] == 4e6 and block["io_limits"]["wbps"]["used_pct"] >= 50
    )  # the last tick alone


def test_cgroup_block_without_a_finding() -> None:
    """Attached to a process in no limited cgroup: the block is there, with the sampler's note."""
    result = _diagnose("--pid", str(os.getpid()))
    assert "cgroup" in result and result["cgroup"]["mode"] in ("v1", "v2", "hybrid")
    assert not [f for f in result["findings"] if f["rule"].startswith("cgroup.")]
