"""The dashboard's files: the recording (`--record`, `r`) and the reports of the window (`s`).

`FileController` owns that state. Its file work runs in threads that touch nothing of the app:
each ends by posting one typed message (perftui.ui.messages) that the app handles on the UI thread,
where `settle` updates the lists of files written. Quit waits for the threads (`finish`) and settles
what they left. This module never imports the app.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from perftui.ui.messages import FileMessage, RecordingFailed, RecordingStopped, ReportFailed, ReportWritten

if TYPE_CHECKING:  # perftui.ui.session_io (the recorder, the report builder) loads on first use
    from perftui.store.metric_store import MetricStore
    from perftui.ui.session_io import LiveRecording

Notify = Callable[..., None]


class _Job:
    __slots__ = ("done", "outcome")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: FileMessage | None = None  # set by the thread before it posts it


class FileController:
    """Recording and report state; `post` must be safe from any thread (App.post_message is)."""

    def __init__(
        self,
        post: Callable[[Message], Any],
        notify: Notify,
        *,
        hostname: str,
        meta: dict[str, Any] | None = None,
        recording: LiveRecording | None = None,
    ) -> None:
        self._post = post
        self._notify = notify  # UI thread only
        self.hostname = hostname
        self._meta = meta
        self.recording = recording
        self.reports_written: list[Path] = []
        self.recordings_made: list[Path] = [] if recording is None else [recording.path]
        self._jobs: dict[int, _Job] = {}
        self._ids = itertools.count(1)

    @property
    def pending_work(self) -> list[threading.Event]:
        """The file work in threads not finished yet (quit and tests wait for these)."""
        return [job.done for job in self._jobs.values() if not job.done.is_set()]

    def meta(self, interval: float) -> dict[str, Any]:
        if self._meta is None:
            from perftui.store.recording_meta import system_metadata

            self._meta = system_metadata(None, interval)
        return self._meta

    def _in_thread(self, work: Callable[[int], FileMessage], name: str) -> None:
        job_id = next(self._ids)
        job = self._jobs[job_id] = _Job()

        def run() -> None:
            try:
                job.outcome = work(job_id)
            finally:
                job.done.set()
            if job.outcome is not None:
                self._post(job.outcome)

        threading.Thread(target=run, name=name, daemon=True).start()

    # -- recording ---------------------------------------------------------------
    def start_recording(self, store: MetricStore, interval: float) -> bool:
        from perftui.core.filenames import timestamped_name, unused_path
        from perftui.ui.session_io import LiveRecording, RecorderError

        try:  # the name `perftui record` gives too (core/filenames.py)
            path = unused_path(Path.cwd(), timestamped_name("rec", "sqlite", host=self.hostname))
            self.recording = LiveRecording.start(path, store, interval=interval)
        except RecorderError as exc:
            self._notify(str(exc), title="cannot record", severity="error", timeout=8)
            return False
        except OSError as exc:  # the working directory itself is gone or unreadable
            self._notify(
                f"cannot record here: {exc.strerror or exc}", title="cannot record", severity="error"
            )
            return False
        self.recordings_made.append(path)
        self._notify(f"recording to {path}", title="recording", timeout=5)
        return True

    def stop_recording(self, *, background: bool) -> None:
        rec, self.recording = self.recording, None
        if rec is None:
            return
        if not background:
            rec.stop()
            return

        def finish(job: int) -> FileMessage:
            path, summary, error = rec.stop()
            return RecordingFailed(job, error) if error else RecordingStopped(job, path, summary)

        self._in_thread(finish, "perftui-stop-recording")

    def check_recording(self) -> bool:
        """A recorder that failed (disk full, file removed) stops, with its message; True then."""
        rec = self.recording
        if rec is None or rec.error is None:
            return False
        self.stop_recording(background=True)
        return True

    # -- reports -------------------------------------------------------------------
    def start_report(
        self, store: MetricStore, *, t0: float, t1: float, interval: float, timeline: list[Any], name: str
    ) -> None:
        from perftui.ui.session_io import timestamped_path, write_report

        meta = dict(self.meta(interval))
        try:
            path = timestamped_path("report", "md", host=self.hostname)
        except OSError as exc:
            msg = f"cannot write a report here: {exc.strerror or exc}"
            self._notify(msg, title="no report", severity="error")
            return

        def work(job: int) -> FileMessage:
            try:
                out = write_report(store, t0=t0, t1=t1, meta=meta, timeline=timeline, path=path, name=name)
            except ValueError as exc:
                return ReportFailed(job, str(exc), severity="warning")
            except OSError as exc:
                return ReportFailed(job, f"cannot write {path}: {exc.strerror or exc}")
            except Exception as exc:  # a report bug must not take the dashboard down
                return ReportFailed(job, f"report failed: {type(exc).__name__}: {exc}")
            return ReportWritten(job, out)

        self._in_thread(work, "perftui-report")

    # -- on the UI thread ----------------------------------------------------------
    def settle(self, message: FileMessage) -> bool:
        """Take in a thread's outcome (once): False when it was taken in already (at quit)."""
        if self._jobs.pop(message.job, None) is None:
            return False
        if isinstance(message, ReportWritten):
            self.reports_written.append(message.path)
        return True

    def finish(self, wait_s: float = 60.0) -> None:
        """Finish the recording now and wait for the file work in threads (quit, unmount)."""
        self.stop_recording(background=False)
        deadline = time.monotonic() + wait_s
        for job in list(self._jobs.values()):
            job.done.wait(max(0.0, deadline - time.monotonic()))
        for job in list(self._jobs.values()):
            if job.outcome is not None:
                self.settle(job.outcome)
