"""`perftui replay` of a big recording (1.5 M uncompacted points, ~25 MB): `q` quits promptly.

The real command in a detached tmux. Once the dashboard is up, `q` ends it within a couple of
seconds however many points the file holds; a `q` typed while the file is still loading is kept
and honoured as soon as the dashboard starts (the load itself is bounded by the reader's caps;
reading 3 M such points took about 5 s on this 2-core dev box).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.test_dashboard_tmux import SETTLE, Tmux
from tests.fixtures.bad_files import copy_fixture
from tests.polling import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
PERFTUI = Path(sys.executable).parent / "perftui"
POINTS = 1_500_000


def big_recording(tmp_path: Path) -> Path:
    path = copy_fixture(tmp_path).rename(tmp_path / "big.sqlite")
    with sqlite3.connect(path) as conn:
        (end,) = conn.execute("SELECT max(t1) FROM frames").fetchone()
        ids = [r[0] for r in conn.execute("SELECT id FROM keys")]
        rows = ((end + 1 + i // len(ids), ids[i % len(ids)], float(i % 97)) for i in range(POINTS))
        conn.executemany("INSERT INTO pending (ts, key_id, value) VALUES (?, ?, ?)", rows)
    return path


def _start(tmux: Tmux, path: Path, done: Path) -> None:
    cmd = f"{SETTLE}; {PERFTUI} replay {path}; echo $? > {done}; sleep 60"
    tmux.run("new-session", "-d", "-s", "e2e", "-x", "160", "-y", "50", cmd)


def test_q_quits_a_big_replay_promptly(tmp_path: Path, tmux: Tmux) -> None:
    path = big_recording(tmp_path)
    done = tmp_path / "exit"
    _start(tmux, path, done)
    tmux.wait_for("Quit", timeout=90)  # the footer: the dashboard is up
    tmux.run("send-keys", "-t", "e2e", "q")
    pressed = time.monotonic()
    assert wait_for(lambda: done.exists() and done.read_text().strip(), timeout=30, step=0.05)
    took = time.monotonic() - pressed
    assert done.read_text().strip() == "0"
    assert took < 3.0, f"q took {took:.1f} s"


def test_q_typed_while_loading_is_honoured(tmp_path: Path, tmux: Tmux) -> None:
    path = big_recording(tmp_path)
    done = tmp_path / "exit"
    started = time.monotonic()
    _start(tmux, path, done)
    pane = psutil.Process(int(tmux.flag("pane_pid")))

    def loading() -> bool:  # perftui has the file open and the dashboard is not up yet
        for child in pane.children(recursive=True):
            try:
                if any(f.path == str(path) for f in child.open_files()):
                    return "Quit" not in tmux.screen()
            except psutil.Error:
                continue
        return False

    assert wait_for(loading, timeout=30, step=0.05)
    tmux.run("send-keys", "-t", "e2e", "q")
    assert wait_for(lambda: done.exists() and done.read_text().strip(), timeout=90, step=0.1)
    assert done.read_text().strip() == "0"
    assert "Traceback" not in tmux.screen()
    assert time.monotonic() - started < 60
