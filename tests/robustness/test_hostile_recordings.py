"""Crafted recordings: every one is a report or ONE line and exit 2, in bounded time and memory.

The corpus (tests/fixtures/hostile.py) is made from the base fixture with plain SQL; a Hypothesis
test mutates valid recordings at random (bytes of the file, cells of the tables) and holds the
same rule, so the reader's checks stay standing.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perftui.cli import main
from perftui.store import tables
from perftui.store.reader import RecordingError, open_recording
from tests.fixtures.bad_files import FIXTURES
from tests.fixtures.hostile import CRAFTED, TOLERATED, crafted_recording, raw_controls_in

BASE = FIXTURES / "base.sqlite"


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("perftui: error: "), err
    assert "Traceback" not in err and not out
    return lines[0]


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_recording_is_one_line_and_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = crafted_recording(tmp_path, name)
    t0 = time.monotonic()
    line = _one_line_exit_2(capsys, ["report", str(path), "--no-diagnosis"])
    assert CRAFTED[name][1] in line
    assert time.monotonic() - t0 < 10
    _one_line_exit_2(capsys, ["compare", str(BASE), str(path)])


@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_odd_but_harmless_recordings_report(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = crafted_recording(tmp_path, name)
    for fmt in ("md", "json", "html"):
        assert main(["report", str(path), "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")]) == 0
    assert main(["compare", str(BASE), str(path), "--format", "json"]) == 0
    capsys.readouterr()


def test_zlib_bomb_and_many_keys_stay_within_memory(tmp_path: Path) -> None:
    """The real command, in a child that reports its own peak RSS: a 64 MiB bomb is never inflated.
    (Not RUSAGE_CHILDREN: that is the largest child this test process ever waited for, e.g. a compiler
    run by an earlier test's build.)"""
    paths = [crafted_recording(tmp_path, "zlib_bomb"), crafted_recording(tmp_path, "many_keys")]
    code = (
        "import resource, sys; from perftui.cli import main; [main(['report', p]) for p in sys.argv[1:]]; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 2
    peak_kib = int(done.stdout.split()[-1])
    assert 0 < peak_kib < 400 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"


def test_point_and_row_caps_have_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "LIMITS", tables.Limits(points=500))
    with pytest.raises(RecordingError, match="too large to read: it holds more than 500 points"):
        open_recording(BASE)
    monkeypatch.setattr(tables, "LIMITS", tables.Limits(rows=2))
    with pytest.raises(RecordingError, match="too large to read: its status table has 7 rows"):
        open_recording(BASE)


def test_replay_of_a_crafted_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = crafted_recording(tmp_path, "deep_json")
    done = subprocess.run(
        [sys.executable, "-m", "perftui", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "nested too deeply" in done.stderr


def test_recording_given_as_a_fifo_is_refused_without_blocking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "rec.sqlite"
    import os

    os.mkfifo(fifo)
    assert "not a regular file" in _one_line_exit_2(capsys, ["report", str(fifo)])


# -- the standing fuzz test ----------------------------------------------------------------------
_TABLE_CELLS = [
    ("meta", "value"),
    ("keys", "name"),
    ("frames", "n"),
    ("frames", "ts"),
    ("chunks", "n"),
    ("chunks", "idx"),
    ("chunks", "vals"),
    ("chunks", "frame_id"),
    ("status", "ts"),
    ("status", "reason"),
    ("details", "value"),
    ("details", "ts"),
    ("timeline", "evidence"),
    ("timeline", "title"),
]
_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.sampled_from(["[" * 3000, "{}", "[]", "null", '"\x1b]0;x\x07"', "[1e999]", "9" * 400]),
)


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.monotonic()
    code = main(["report", str(path), "--no-diagnosis", "--format", "json"])
    out, err = capsys.readouterr()
    assert time.monotonic() - t0 < 5
    if code == 0:
        assert not raw_controls_in(out.replace("\n", ""))
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert not raw_controls_in(err.strip())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cell=st.sampled_from(_TABLE_CELLS), value=_VALUES, row=st.integers(min_value=1, max_value=4))
def test_fuzz_mutated_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cell: tuple[str, str], value: object, row: int
) -> None:
    path = crafted_recording(tmp_path, "inf_values")  # loose tables: any value fits any cell
    table, column = cell
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = {row}", (value,))
    _check(path, capsys)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_mutated_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    raw = bytearray(BASE.read_bytes())
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        at = data.draw(st.integers(min_value=100, max_value=len(raw) - 1))  # past the header check
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    path = tmp_path / "mutated.sqlite"
    path.write_bytes(bytes(raw))
    _check(path, capsys)
