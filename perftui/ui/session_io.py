"""What the dashboard writes: recordings (`--record`, `r`) and reports of the current window (`s`).

No Textual here: the app calls these from its actions and worker threads.
"""

from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perftui.store.metric_store import MetricStore
from perftui.store.recorder import Recorder, RecorderError
from perftui.store.recording_meta import system_metadata

if TYPE_CHECKING:
    from perftui.diagnosis.model import Diagnosis
    from perftui.diagnosis.timeline_log import TimelineLog
    from perftui.diagnosis.tracker import DiagnosisTracker


def timestamped_path(
    kind: str, ext: str, *, host: str | None = None, directory: Path | None = None, now: float | None = None
) -> Path:
    """`perftui-<kind>-<host>-<YYYYmmdd-HHMMSS>.<ext>` in `directory` (the cwd); never an existing file."""
    host = re.sub(r"[^A-Za-z0-9_.-]+", "_", host or socket.gethostname()) or "host"
    stamp = datetime.fromtimestamp(time.time() if now is None else now).strftime("%Y%m%d-%H%M%S")
    base = (directory or Path.cwd()) / f"perftui-{kind}-{host}-{stamp}"
    path = base.with_name(f"{base.name}.{ext}")
    n = 1
    while path.exists():
        path = base.with_name(f"{base.name}-{n}.{ext}")
        n += 1
    return path


class LiveRecording:
    """A Recorder on the live store plus the diagnosis timeline the app's tracker produces."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._log: TimelineLog | None = None  # made on the first diagnosis (the module loads late)

    @classmethod
    def start(
        cls, path: Path, store: MetricStore, *, interval: float, argv: Sequence[str] | None = None
    ) -> LiveRecording:
        """Create the file and start recording (RecorderError with a one-line message otherwise)."""
        meta = system_metadata(list(sys.argv if argv is None else argv), interval)
        recorder = Recorder(path, store, meta=meta)
        recorder.start()
        return cls(recorder)

    @property
    def path(self) -> Path:
        return self.recorder.path

    @property
    def error(self) -> str | None:
        return self.recorder.error

    def on_diagnosis(self, tracker: DiagnosisTracker, diag: Diagnosis) -> None:
        """After each tracker update: perftui.diagnosis.timeline_log writes it into the file."""
        if self._log is None:
            from perftui.diagnosis.timeline_log import TimelineLog

            self._log = TimelineLog(self.recorder, mid_session=True)
        self._log.write(tracker, diag)

    def stop(self) -> tuple[Path, str, str | None]:
        """Finish the file (compact, one self-contained file): (path, what it holds, error or None)."""
        r = self.recorder
        r.close()
        elapsed = (r.last_ts - r.first_ts) if r.first_ts is not None and r.last_ts is not None else 0.0
        return r.path, f"{r.samples:,} values over {elapsed:.0f} s", r.error


def write_report(
    store: MetricStore,
    *,
    t0: float,
    t1: float,
    meta: dict[str, Any],
    timeline: Sequence[Any],
    path: Path,
    name: str = "live",
) -> Path:
    """A Markdown report of the store between t0 and t1, written to `path` (OSError if it cannot be)."""
    from perftui.report.build import build_report
    from perftui.report.render_md import render_markdown
    from perftui.store.reader import recording_from_store

    rec = recording_from_store(store, meta=meta, timeline=timeline, name=name)
    if rec.slice(t0, t1).samples == 0:
        raise ValueError("no samples in the current window yet")
    text = render_markdown(build_report(rec, t0, t1))
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(text)
    return path


__all__ = ["LiveRecording", "RecorderError", "timestamped_path", "write_report"]
