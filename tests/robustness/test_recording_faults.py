"""The real `perftui record` on a real filesystem (a small tmpfs) that fills up mid-recording.

Mounting needs root: skipped elsewhere. tests/store covers the fault without root (SQLITE_FULL
through a page limit) and an unwritable directory at the start. A filesystem cannot be remounted
read-only while a file on it is open for writing (EBUSY), and a directory made read-only does not
affect files already open, so "read-only during recording" has no row of its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.store.reader import open_recording
from tests.polling import wait_for

pytestmark = pytest.mark.e2e


def _mount(path: Path, *opts: str) -> bool:
    done = subprocess.run(["mount", *opts, str(path)], capture_output=True, timeout=20)
    return done.returncode == 0


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or not _mount(mnt, "-t", "tmpfs", "-o", "size=16m", "tmpfs"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)


def _start(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perftui", "record", "--no-gpu", "--interval", "0.05", "-o", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_samples(path: Path, proc: subprocess.Popen[str], at_least: int) -> int:
    seen = [0]

    def recorded() -> bool:
        assert proc.poll() is None, proc.communicate()
        with contextlib.suppress(Exception):
            seen[0] = open_recording(path).samples
        return seen[0] >= at_least

    assert wait_for(recorded, timeout=30, step=0.1), "nothing recorded in time"
    return seen[0]


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.fixture
def filled(small_fs: Path) -> tuple[subprocess.CompletedProcess[str], Path, int]:
    """A recording whose filesystem fills up mid-run; (the finished command, its file, samples before)."""
    path = small_fs / "full.sqlite"
    proc = _start(path)
    before = _wait_samples(path, proc, 200)
    _fill(small_fs)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    (small_fs / "filler").unlink()  # room again
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), path, before


def test_disk_full_while_recording_stops_with_one_line(
    filled: tuple[subprocess.CompletedProcess[str], Path, int],
) -> None:
    done, path, _ = filled
    assert done.returncode == 1, (done.stdout, done.stderr)
    err = done.stderr
    assert err.startswith("perftui: error: disk full while writing") and err.count("\n") == 1, err
    assert "Traceback" not in err and "kept what was written" in err
    assert Path(f"{path}-wal").stat().st_size > 0  # the data that could not be checkpointed


def test_disk_full_recording_opens_with_what_was_written(
    filled: tuple[subprocess.CompletedProcess[str], Path, int],
) -> None:
    _, path, before = filled
    assert open_recording(path).samples >= before
