"""The diagnosis in a recording: one writer for `perftui record` and the dashboard (`--record`, `r`).

After each tracker update it puts the advice (`diagnosis.current`, only when it changed) into the
recorded store, and the timeline entries not written yet into the recording. A log started in the
middle of a session writes the verdict in force, not the older changes; a tracker that was reset
(a replay restarted, a seek) starts over. No Textual here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.render import advice_detail
from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.store.recorder import Recorder


class TimelineLog:
    """Writes what a DiagnosisTracker says into a Recorder's file."""

    def __init__(self, recorder: Recorder, *, mid_session: bool = False) -> None:
        self.recorder = recorder
        self._mid_session = mid_session
        self._seen = 0  # entries of the tracker's timeline written so far
        self._last_detail: dict[str, Any] | None = None

    def write(self, tracker: DiagnosisTracker, diag: Diagnosis) -> None:
        detail = advice_detail(diag)
        if detail != self._last_detail:
            self._last_detail = detail
            self.recorder.store.set_detail("diagnosis.current", detail)
        timeline = list(tracker.timeline)
        if self._mid_session:
            # started mid-session: the verdict in force goes in, older changes do not
            self._mid_session = False
            start = max(0, len(timeline) - 1)
        else:
            start = self._seen if self._seen <= len(timeline) else 0  # a reset tracker starts over
        for entry in timeline[start:]:
            # the file's timeline has no column for the co-bottleneck: its title carries it
            self.recorder.add_timeline(replace(entry, title=entry.headline))
        self._seen = len(timeline)
