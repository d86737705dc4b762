"""`perftui diagnose` end to end: the real command in a subprocess, on real workloads this test starts.

Needs the host samplers (no GPU here: --no-gpu). The machine has 2 cores and other tests may run
beside these, so each run is short and the workloads are strong enough to dominate.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from perftui.diagnosis.model import VERDICT_CLASSES
from tests.polling import wait_for

pytestmark = pytest.mark.e2e

CMD = [sys.executable, "-m", "perftui", "diagnose"]


def diagnose(*args: str, timeout: float = 40) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=timeout)


def diagnose_json(duration: float, interval: float = 0.5) -> dict[str, Any]:
    p = diagnose("--json", "--no-gpu", "--duration", str(duration), "--interval", str(interval))
    assert p.returncode == 0, p.stderr
    out: dict[str, Any] = json.loads(p.stdout)
    return out


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.kill()
    for p in procs:
        p.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ["--duration", "0"],
        ["--duration", "-3"],
        ["--duration", "99999"],
        ["--interval", "0.001"],
        ["--duration", "1", "--interval", "2"],
        ["--duration", "abc"],
        ["--bogus"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str]) -> None:
    p = diagnose(*args, "--no-gpu", timeout=20)
    assert p.returncode == 2
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    assert "error:" in p.stderr.strip().splitlines()[-1]


def test_json_schema() -> None:
    out = diagnose_json(1.5)
    for key, typ in (
        ("verdict", str),
        ("confidence", str),
        ("evidence", list),
        ("suggestions", list),
        ("next_step", str),
        ("findings", list),
        ("timeline", list),
    ):
        assert isinstance(out[key], typ), key
    assert out["verdict"] in VERDICT_CLASSES
    assert out["confidence"] in ("high", "medium", "low")
    assert out["findings"] and out["findings"][0]["verdict"] == out["verdict"]
    for f in out["findings"]:
        assert {
            "verdict",
            "title",
            "confidence",
            "score",
            "evidence",
            "suggestions",
            "next_step",
            "rule",
            "subject",
        } <= set(f)
    for e in out["timeline"]:
        assert {"ts", "verdict", "confidence", "title", "evidence"} <= set(e)
    assert out["sources"]["cpu"]["available"] is True
    assert "gpu" not in out["sources"]  # --no-gpu


def test_text_output_and_no_textual_import() -> None:
    code = (
        "import sys; from perftui.cli import main; "
        "rc = main(['diagnose', '--no-gpu', '--duration', '1', '--interval', '0.5']); "
        "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(rc)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=40)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("Verdict: ")
    assert any(ln.startswith("Next step: ") for ln in lines)


def _cpu_seconds(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _read_chars(pid: int) -> int:
    return int(psutil.Process(pid).io_counters().read_chars)  # preadv counts here, cache or not


@pytest.fixture
def busy_every_core() -> Iterator[int]:
    n = os.cpu_count() or 1
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        assert wait_for(lambda: all(_cpu_seconds(p.pid) > 0.3 for p in procs), timeout=20)  # spinning
        yield n
    finally:
        _stop(procs)


def test_busy_processes_on_every_core_are_cpu_bound(busy_every_core: int) -> None:
    out = diagnose_json(5)
    assert out["verdict"] == "cpu-bound", out["findings"]
    assert out["confidence"] == "high"
    assert out["evidence"][0].startswith("CPU ")


DIRECT_READER = r"""
import mmap, os, random, sys
path, block = sys.argv[1], 1 << 20
fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, block)  # page-aligned, as O_DIRECT needs
blocks = os.fstat(fd).st_size // block
rng = random.Random(os.getpid())
while True:
    os.preadv(fd, [buf], rng.randrange(blocks) * block)
"""


@pytest.fixture
def direct_io_readers(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "direct.bin"
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(128):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        os.close(fd)
    except OSError as exc:  # a filesystem without O_DIRECT (tmpfs) is not this test's subject
        pytest.skip(f"O_DIRECT not supported under {tmp_path}: {exc}")
    # four readers: one of them is nearly always waiting on the device (PSI io "some" near 100 %)
    procs = [subprocess.Popen([sys.executable, "-c", DIRECT_READER, str(path)]) for _ in range(4)]
    try:
        assert wait_for(lambda: all(_read_chars(p.pid) >= 8 << 20 for p in procs), timeout=20)  # reading
        yield path
    finally:
        _stop(procs)


def test_direct_io_reader_is_io_bound(direct_io_readers: Path) -> None:
    out = diagnose_json(5)
    assert out["verdict"] == "io-bound", out["findings"]
    assert any("I/O pressure" in e or "iowait" in e for e in out["evidence"])


def _busy_jiffies() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle, sum(fields[:8])


def test_nothing_running_is_idle() -> None:
    busy0, total0 = _busy_jiffies()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = diagnose_json(4)
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = _busy_jiffies()
    hz = os.sysconf("SC_CLK_TCK")
    ours = (child1.ru_utime + child1.ru_stime - child0.ru_utime - child0.ru_stime) * hz
    others = max(0.0, (busy1 - busy0) - ours) / max(1, total1 - total0) * 100
    if out["verdict"] != "idle" and others > 10:
        # Not this machine's fault: something else (another job) kept it busy while we watched.
        pytest.skip(f"machine not quiet: other processes used {others:.0f} % of all cores")
    assert out["verdict"] == "idle", out["findings"]
