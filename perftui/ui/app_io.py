"""The dashboard's file actions: `r` (start/stop recording) and `s` (report of the current window).

File work runs in worker threads so the UI stays responsive; each outcome is a notification
that says where the file is (or, in one line, why it could not be written).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from perftui.ui.session_io import LiveRecording, RecorderError, timestamped_path, write_report

if TYPE_CHECKING:
    from perftui.ui.app import PerftuiApp


def app_meta(app: PerftuiApp) -> dict[str, Any]:
    if app.meta is None:
        from perftui.store.recorder import system_metadata

        app.meta = system_metadata(None, app.interval)
    return app.meta


def notify_from_thread(app: PerftuiApp, message: str, **kwargs: Any) -> None:
    """Notify from a worker thread without blocking it (Textual's notify is thread-safe; quit may be
    waiting for this thread on the UI thread, so `call_from_thread` would deadlock)."""
    with contextlib.suppress(RuntimeError):
        app.notify(message, **kwargs)


def in_thread(app: PerftuiApp, work: Callable[[], None], name: str) -> threading.Event:
    """Run `work` in a worker thread; the event is set when it has finished (quit waits for it)."""
    done = threading.Event()

    def run() -> None:
        try:
            work()
        finally:
            done.set()

    app.pending_work.append(done)
    app.run_worker(run, thread=True, name=name, group=name, exit_on_error=False)
    return done


def toggle_record(app: PerftuiApp) -> None:
    if app.recording is not None:
        stop_recording(app, background=True)
        return
    if not app.can_record:
        app.notify("recording is for live sessions (a replay is a recording already)", timeout=4)
        return
    try:
        path = timestamped_path("rec", "sqlite", host=app.hostname)
        app.recording = LiveRecording.start(path, app.store, interval=app.interval)
    except RecorderError as exc:
        app.notify(str(exc), title="cannot record", severity="error", timeout=8)
        return
    except OSError as exc:  # the working directory itself is gone or unreadable
        app.notify(f"cannot record here: {exc.strerror or exc}", title="cannot record", severity="error")
        return
    app.recordings_made.append(path)
    app.notify(f"recording to {path}", title="recording", timeout=5)
    app.refresh_header()


def stop_recording(app: PerftuiApp, *, background: bool) -> None:
    rec = app.recording
    if rec is None:
        return
    app.recording = None
    app.refresh_header()
    if not background:
        rec.stop()
        return

    def finish() -> None:
        path, summary, error = rec.stop()
        if error:
            notify_from_thread(app, error, title="recording stopped", severity="error", timeout=8)
        else:
            notify_from_thread(app, f"saved {summary} to {path}", title="recording stopped", timeout=6)

    in_thread(app, finish, "perftui-stop-recording")


def check_recording(app: PerftuiApp) -> None:
    """A recorder that failed (disk full, file removed) stops with its message; samples kept."""
    rec = app.recording
    if rec is not None and rec.error is not None:
        message = rec.error
        stop_recording(app, background=True)
        app.notify(message, title="recording stopped", severity="error", timeout=10)


def start_report(app: PerftuiApp) -> None:
    ctx = app.view_ctx()
    t1 = ctx.now if app.store.last_ts is None else min(ctx.now, app.store.last_ts)
    t0 = t1 - ctx.window
    store = app.store
    meta = dict(app_meta(app))
    timeline = list(app.tracker.timeline) if app.tracker is not None else []
    try:
        path = timestamped_path("report", "md", host=app.hostname)
    except OSError as exc:
        app.notify(f"cannot write a report here: {exc.strerror or exc}", title="no report", severity="error")
        return
    name = app.report_source_name()

    def work() -> None:
        try:
            out = write_report(store, t0=t0, t1=t1, meta=meta, timeline=timeline, path=path, name=name)
        except ValueError as exc:
            notify_from_thread(app, str(exc), title="no report", severity="warning", timeout=5)
            return
        except OSError as exc:
            msg = f"cannot write {path}: {exc.strerror or exc}"
            notify_from_thread(app, msg, title="no report", severity="error", timeout=8)
            return
        except Exception as exc:  # a report bug must not take the dashboard down
            msg = f"report failed: {type(exc).__name__}: {exc}"
            notify_from_thread(app, msg, title="no report", severity="error", timeout=8)
            return
        app.reports_written.append(out)
        notify_from_thread(app, f"wrote {out}", title="report", timeout=6)

    in_thread(app, work, "perftui-report")
