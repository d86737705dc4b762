"""The real `perftui` command, end to end in subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perftui import __version__
from tests.cli_run import perftui


def test_version() -> None:
    res = perftui("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"perftui {__version__}"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--bogus"], "perftui --help"),
        (["snapshot", "--bogus"], "perftui --help"),
        (["snapshot", "--duration", "x"], "perftui snapshot --help"),
        (["snapshot", "--duration", "nan"], "perftui snapshot --help"),
        (["record", "--duration", "inf"], "perftui record --help"),
    ],
)
def test_bad_flags_are_one_line_with_a_help_hint_and_exit_2(args: list[str], hint: str) -> None:
    res = perftui(*args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perftui: error: "), res.stderr
    assert f"(see `{hint}`)" in lines[0]


@pytest.mark.parametrize("duration", ["-1", "0", "3601"])
def test_snapshot_bad_duration(duration: str) -> None:
    res = perftui("snapshot", "--duration", duration, "--no-gpu")
    assert res.returncode == 2
    assert res.stderr.strip().startswith("perftui: error: --duration must be more than 0"), res.stderr


def test_record_into_missing_directory_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "run.jsonl"
    res = perftui("record", "--no-gpu", "--duration", "0.5", "-o", str(out))
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perftui: error: cannot create"), res.stderr
    assert not out.parent.exists()


def test_snapshot_json_end_to_end() -> None:
    res = perftui("snapshot", "--json", "--duration", "0.5")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) >= {"host", "metrics", "sources"}
    metrics, sources = doc["metrics"], doc["sources"]
    for key in ("cpu.util", "mem.used_bytes", "psi.cpu.some10"):
        assert isinstance(metrics[key]["value"], (int, float)), key
    assert metrics["cpu.util"]["unit"] == "%"
    assert metrics["mem.used_bytes"]["unit"] == "B"
    assert any(k.startswith("disk.") for k in metrics)
    assert any(k.startswith("net.") and k.endswith("rx_bytes_per_s") for k in metrics)
    for name in ("cpu", "memory", "psi", "disk", "net", "membw", "gpu"):
        assert name in sources, name
        assert set(sources[name]) == {"available", "reason"}
    # This VM has neither a memory-bandwidth PMU nor an NVIDIA driver: both say why.
    if not sources["membw"]["available"]:
        assert sources["membw"]["reason"]
    if not sources["gpu"]["available"]:
        assert sources["gpu"]["reason"]


def test_snapshot_text_lists_sources_and_values() -> None:
    res = perftui("snapshot", "--duration", "0.2", "--no-gpu")
    assert res.returncode == 0, res.stderr
    assert "cpu.util" in res.stdout
    assert "membw" in res.stdout


@pytest.mark.parametrize(("preset", "expect"), [(None, "1"), ("3", "3")])
def test_numpy_starts_no_blas_thread_pool(preset: str | None, expect: str) -> None:
    """OpenBLAS would start one thread per CPU at numpy's import; perftui asks for one (a value the
    user set is kept)."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys; from perftui.cli import quiet_blas; quiet_blas(); import numpy; "
        "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    value, threads = out.stdout.split()
    assert value == expect
    if preset is None:
        assert threads == "1"  # the main thread only (it would be one per CPU without it)
