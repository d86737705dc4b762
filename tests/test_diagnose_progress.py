"""`perftui diagnose` shows a progress line on a terminal while it watches (as `record` does), and
clears it before the result; piped, stderr stays clean."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from perftui.commands.diagnose import progress_line
from perftui.diagnosis.model import Diagnosis


def test_the_progress_line_says_how_far_and_the_verdict_so_far() -> None:
    line = progress_line(3.2, 10.0, Diagnosis(verdict="io-bound", confidence="medium"))
    assert line == "diagnosing: 3 s of 10 s · io-bound (medium confidence) so far"


def test_diagnose_on_a_terminal_shows_progress_then_clears_it() -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "perftui", "--no-gpu", "diagnose", "--duration", "2", "--interval", "0.5"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    assert proc.returncode == 0, err
    text = err.decode("utf-8", "replace")
    assert "diagnosing: " in text and " of 2 s · " in text
    assert text.rstrip("\r\n").endswith("\x1b[2K")  # the line is cleared at the end
    assert b"Verdict" in out or b"verdict" in out.lower()


def test_piped_diagnose_writes_no_progress() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "perftui", "--no-gpu", "diagnose", "--duration", "1", "--interval", "0.5"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 0 and b"diagnosing:" not in proc.stderr
