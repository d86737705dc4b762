"""What the dashboard's file work (perftui.ui.file_controller) posts back to the UI thread.

The worker threads never touch the app: they post one of these, and the app's handlers (on the
UI thread) notify and update the lists of files written.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class FileMessage(Message):
    """A file outcome; `job` is the controller's record of the work that produced it."""

    def __init__(self, job: int) -> None:
        super().__init__()
        self.job = job


class ReportWritten(FileMessage):
    def __init__(self, job: int, path: Path) -> None:
        super().__init__(job)
        self.path = path


class ReportFailed(FileMessage):
    def __init__(self, job: int, reason: str, *, severity: str = "error") -> None:
        super().__init__(job)
        self.reason = reason
        self.severity = severity  # "warning": nothing to report yet; "error": it could not be written


class RecordingStopped(FileMessage):
    def __init__(self, job: int, path: Path, summary: str) -> None:
        super().__init__(job)
        self.path = path
        self.summary = summary


class RecordingFailed(FileMessage):
    """The recorder stopped with an error (disk full, file removed); the samples so far are kept."""

    def __init__(self, job: int, reason: str) -> None:
        super().__init__(job)
        self.reason = reason
