"""`--pid` on the headless commands: validated before anything starts, then the tree is sampled."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli_run import perftui as run_perftui


def perftui(*args: str) -> subprocess.CompletedProcess[str]:
    return run_perftui(*args, timeout=90)  # py-spy and tree sampling take their time


@pytest.mark.parametrize(
    "cmd", [["snapshot"], ["diagnose", "--duration", "1"], ["record", "--duration", "1"]]
)
@pytest.mark.parametrize(("pid", "needle"), [("999999999", "no process with PID"), ("0", "invalid PID")])
def test_bad_pid_is_one_line_and_exit_2(cmd: list[str], pid: str, needle: str, tmp_path: Path) -> None:
    extra = ["-o", str(tmp_path / "r.sqlite")] if cmd[0] == "record" else []
    res = perftui(*cmd, *extra, "--no-gpu", "--pid", pid)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert not (tmp_path / "r.sqlite").exists()


def test_snapshot_with_pid_samples_the_tree_and_its_stacks(python_child: int) -> None:
    res = perftui("snapshot", "--json", "--no-gpu", "--duration", "1.5", "--pid", str(python_child))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["sources"]["process"]["available"] is True
    assert doc["metrics"]["proc.rss_bytes"]["value"] > 0
    assert doc["metrics"]["proc.procs"]["value"] == 1
    assert doc["details"]["proc.info"]["pid"] == python_child
    # py-spy works here (root): the sleeping child's samples are idle
    assert doc["sources"]["stacks"]["available"] is True, doc["sources"]["stacks"]
    assert doc["metrics"]["stack.share.idle"]["value"] >= 50


def test_top_level_pid_reaches_the_subcommand(python_child: int) -> None:
    res = perftui("--pid", str(python_child), "snapshot", "--json", "--no-gpu", "--duration", "0.5")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["details"]["proc.info"]["pid"] == python_child


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_gpu_before_or_after_the_subcommand(where: str) -> None:
    """`perftui --no-gpu snapshot` once lost the flag (the subcommand's default reset it)."""
    args = ["--no-gpu", "snapshot", "--json"] if where == "before" else ["snapshot", "--no-gpu", "--json"]
    res = perftui(*args, "--duration", "0.3")
    assert res.returncode == 0, res.stderr
    assert "gpu" not in json.loads(res.stdout)["sources"]  # not sampled at all, not "no driver"
