"""One default file name pattern: `perftui record` names its file as the dashboard's `r` does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perftui.commands.record import default_filename
from perftui.core.filenames import timestamped_name, unused_path
from perftui.store.metric_store import MetricStore
from perftui.ui.file_controller import FileController

PATTERN = re.compile(r"perftui-rec-gpu-node-07-\d{8}-\d{6}\.sqlite")


def test_record_and_the_dashboard_name_recordings_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PATTERN.fullmatch(default_filename(host="gpu-node-07"))
    assert default_filename(1.7e9, "gpu-node-07") == timestamped_name(
        "rec", "sqlite", host="gpu-node-07", now=1.7e9
    )
    monkeypatch.chdir(tmp_path)
    files = FileController(lambda m: None, lambda *a, **k: None, hostname="gpu-node-07")
    assert files.start_recording(MetricStore(), 1.0)
    assert files.recording is not None and PATTERN.fullmatch(files.recording.path.name)
    files.stop_recording(background=False)


def test_an_existing_file_gets_a_suffix(tmp_path: Path) -> None:
    name = timestamped_name("rec", "sqlite", host="h", now=0)
    (tmp_path / name).touch()
    assert unused_path(tmp_path, name).name == name.replace(".sqlite", "-1.sqlite")
