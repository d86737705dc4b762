"""File faults and file safety: report outputs, bad recordings for compare and replay, bad configs, PIDs.

Recording killed with SIGKILL, disk full and a read-only directory while recording are covered in
tests/store (see the fault matrix in the README); report's bad input files in tests/report.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.bad_files import FIXTURES, bad_files

BASE = FIXTURES / "base.sqlite"


def cli(*args: str, env: dict[str, str] | None = None, umask: int = -1) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perftui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        umask=umask,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stderr.startswith("perftui: error: ") and needle in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# -- report -o: umask, never through a symlink -------------------------------------------------------------
def test_report_output_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "someone-elses-file"
    victim.write_text("keep me")
    link = tmp_path / "report.md"
    link.symlink_to(victim)
    done = cli("report", str(BASE), "-o", str(link), "--no-diagnosis")
    one_line_error(done, 1, "it is a symbolic link")
    assert victim.read_text() == "keep me" and link.is_symlink()
    dangling = tmp_path / "r.html"
    dangling.symlink_to(tmp_path / "does-not-exist-yet")
    one_line_error(cli("report", str(BASE), "-o", str(dangling), "--no-diagnosis"), 1, "symbolic link")
    assert not (tmp_path / "does-not-exist-yet").exists()


def test_report_output_uses_the_umask_and_replaces_own_file(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    done = cli("report", str(BASE), "-o", str(out), "--no-diagnosis", umask=0o077)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    first = out.read_text()
    out.write_text("old contents that are much longer than nothing " * 1000)
    assert cli("report", str(BASE), "-o", str(out), "--no-diagnosis").returncode == 0
    assert out.read_text() == first  # truncated, not appended to
    done = cli("report", str(BASE), "-o", str(tmp_path / "j.json"), "--no-diagnosis", umask=0o022)
    assert (tmp_path / "j.json").stat().st_mode & 0o777 == 0o644


# -- bad recordings: compare (both sides) and replay -------------------------------------------------------
@pytest.mark.parametrize("side", ["new", "base"])
def test_compare_bad_files_exit_2_with_one_line(tmp_path: Path, side: str) -> None:
    for name, (path, needle) in bad_files(tmp_path).items():
        args = (str(BASE), str(path)) if side == "new" else (str(path), str(BASE))
        done = cli("compare", *args)
        one_line_error(done, 2, needle)
        assert done.stdout == "", name


@pytest.mark.skipif(
    importlib.util.find_spec("perftui.commands.replay") is None, reason="perftui replay is not there yet"
)
def test_replay_bad_files_exit_2_with_one_line(tmp_path: Path) -> None:
    for name, (path, needle) in bad_files(tmp_path).items():
        done = cli("replay", str(path))
        assert done.returncode == 2, (name, done.stderr)
        assert done.stderr.startswith("perftui: error: ") and needle in done.stderr, (name, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, name


# -- config --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("interval = 'fast'\n", "'interval' must be a number"),
        ("gpu = 1\n", "'gpu' must be true or false"),
        ("interval = [\n", "not valid TOML"),
    ],
)
def test_dashboard_with_a_bad_config_prints_one_line_naming_the_key(
    tmp_path: Path, text: str, needle: str
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    done = cli(env={"PERFTUI_CONFIG": str(cfg)})
    one_line_error(done, 2, needle)
    assert str(cfg) in done.stderr


# -- PIDs ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pid", ["99999999999", "4194305", "0", "-3", "abc", "1e3"])
def test_out_of_range_and_malformed_pids_are_one_line_exit_2(pid: str) -> None:
    done = cli("snapshot", "--pid", pid)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("perftui: error: ")
