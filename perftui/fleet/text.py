"""Remote text made safe to show: perftui/core/sanitize.py's escapes, trimmed, capped at 300."""

from __future__ import annotations

from perftui.core.sanitize import clean


def visible(text: str, limit: int = 300) -> str:
    return clean(text.strip(), limit)
