"""Small text helpers shared by the Markdown and HTML renderers."""

from __future__ import annotations

from datetime import datetime, timezone

from perftui.report.model import Report


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def offset(seconds: float) -> str:
    """Seconds from the window start as +M:SS or +H:MM:SS."""
    s = round(seconds)
    sign = "-" if s < 0 else "+"
    s = abs(s)
    if s >= 3600:
        return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{sign}{s // 60}:{s % 60:02d}"


def duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{seconds:.0f} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def pct(share: float) -> str:
    return f"{share * 100:.0f} %"


def stat_header() -> tuple[str, ...]:
    return ("mean", "P50", "P95", "P99", "P99.9", "max")


def time_range_lines(report: Report) -> list[str]:
    lines = [f"Window: {iso(report.start)} → {iso(report.end)} ({duration(report.duration)})"]
    if report.recording_start is not None and report.recording_end is not None:
        lines.append(
            f"Recording: {iso(report.recording_start)} → {iso(report.recording_end)} "
            f"({duration(report.recording_end - report.recording_start)})"
        )
    lines.append(f"Samples in the window: {report.samples:,}")
    return lines
