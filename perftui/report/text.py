"""Small text helpers shared by the Markdown and HTML renderers."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from perftui.core.sanitize import TEXT_MAX, clean
from perftui.report.model import Report

_MD_SPECIAL = re.compile(r"([\\`<>|&]|\](?=[(\[:]))")


def md(text: object) -> str:
    """Text from a recording, safe inside Markdown: no control characters (`core.sanitize`), one
    line, and every character that could start HTML, an entity, a link, an image, a code span
    or a table cell backslash-escaped, so a viewer shows it literally."""
    return _MD_SPECIAL.sub(r"\\\1", clean(str(text), TEXT_MAX))


def code(text: object) -> str:
    """A Markdown code span of `text` (no control characters) that its backticks cannot end."""
    body = clean(str(text), TEXT_MAX)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    delim = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{delim}{pad}{body}{pad}{delim}"


def fence(body: str) -> str:
    """A code fence longer than any run of backticks in `body` (so `body` cannot close it)."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def iso(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return f"{ts!r} (not a valid time)"


def at(ts: float, seconds: float) -> str:
    """A timeline row's wall-clock time (UTC) with its offset from the window start: 14:03:07 (+1:20)."""
    try:
        wall = datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return offset(seconds)
    return f"{wall} ({offset(seconds)})"


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
