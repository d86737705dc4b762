"""The real `perftui record` command: signals, SIGKILL, overwrite rules, unwritable places."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perftui.store.reader import open_recording
from tests.polling import wait_for

pytestmark = pytest.mark.e2e

PERFTUI = [sys.executable, "-m", "perftui"]
ROOT = Path(__file__).resolve().parents[2]


def _start(path: Path, *extra: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PERFTUI, "record", "--no-gpu", "--interval", "0.2", "-o", str(path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd or ROOT,
    )


def _wait_for_samples(
    path: Path, proc: subprocess.Popen[str], at_least: int = 20, timeout: float = 30
) -> None:

    def recorded() -> bool:
        assert proc.poll() is None, proc.communicate()
        try:
            return open_recording(path).samples >= at_least
        except Exception:
            return False

    assert wait_for(recorded, timeout=timeout, step=0.2), "the recorder wrote nothing in time"


def test_record_for_a_duration(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    done = subprocess.run(
        [*PERFTUI, "record", "--no-gpu", "--duration", "1.5", "--interval", "0.25", "-o", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert str(path) in done.stdout and done.stderr == ""  # not a TTY: quiet
    rec = open_recording(path)
    assert "cpu.util" in rec.series and rec.meta["interval_s"] == 0.25
    assert rec.meta["command_line"][-2:] == ["-o", str(path)]
    assert rec.statuses_at()["cpu"].available


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_finishes_the_file_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    path = tmp_path / "s.sqlite"
    proc = _start(path)
    _wait_for_samples(path, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert str(path) in out and sig.name in out
    assert "Traceback" not in err
    assert not Path(f"{path}-wal").exists()  # compacted, checkpointed, one file
    assert open_recording(path).samples >= 20


def test_sigkill_loses_at_most_the_last_second_and_the_file_opens(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite"
    proc = _start(path)
    _wait_for_samples(path, proc, at_least=40)
    time.sleep(1.5)  # the workload: kill at some point between flushes, not right after one
    killed_at = time.time()
    proc.kill()
    proc.communicate(timeout=30)
    rec = open_recording(path)
    assert rec.end is not None
    # One flush per second; generous slack for a loaded 2-core machine.
    assert killed_at - rec.end < 2.5, killed_at - rec.end
    report = subprocess.run(
        [*PERFTUI, "report", str(path), "--format", "json", "--no-diagnosis"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert report.returncode == 0, report.stderr
    assert '"cpu.util"' in report.stdout


def test_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "exists.sqlite"
    path.write_text("keep")
    cmd = [*PERFTUI, "record", "--no-gpu", "--duration", "0.5", "--interval", "0.25", "-o", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--force" in done.stderr
    assert path.read_text() == "keep"
    forced = subprocess.run([*cmd, "--force"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert forced.returncode == 0, forced.stderr
    assert open_recording(path).samples > 0


def _read_only_dir(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """A directory no one may create files in, and the commands that undo it."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        return ro, []
    # Root ignores permission bits: make it a read-only bind mount instead.
    bind = subprocess.run(["mount", "--bind", str(ro), str(ro)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("cannot make a read-only directory as root here (no mount)")
    undo = [["umount", str(ro)]]
    remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True)
    if remount.returncode != 0:
        subprocess.run(undo[0], check=False)
        pytest.skip("cannot make a read-only directory as root here (no remount)")
    return ro, undo


def test_unwritable_directory_gives_a_clear_message(tmp_path: Path) -> None:
    ro, undo = _read_only_dir(tmp_path)
    try:
        done = subprocess.run(
            [*PERFTUI, "record", "--no-gpu", "--duration", "0.5", "-o", str(ro / "x.sqlite")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        created = (ro / "x.sqlite").exists()
    finally:
        for cmd in undo:
            subprocess.run(cmd, check=False)
        ro.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"perftui: error: cannot create {ro / 'x.sqlite'}: ")
    assert not created


def test_progress_on_a_terminal_and_default_file_name(tmp_path: Path) -> None:
    import pty
    import re

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*PERFTUI, "record", "--no-gpu", "--duration", "1.5", "--interval", "0.25"],
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        out, _ = proc.communicate(timeout=60)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert proc.returncode == 0
    progress = b"".join(chunks).decode("utf-8", "replace")
    assert re.search(
        r"recording to \S+  00:00:0\d  [\d,]+ ticks  [\d,]+ values  [\d.]+ (B|KiB|MiB)", progress
    )
    files = list(tmp_path.glob("perftui-*.sqlite"))
    assert len(files) == 1 and re.fullmatch(r"perftui-[\w.-]+-\d{8}-\d{6}\.sqlite", files[0].name)
    assert files[0].name in out
    assert open_recording(files[0]).samples > 0
