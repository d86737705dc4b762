"""Remote text made safe to show: control characters as visible escapes, one line, capped.

A local guard until a shared sanitizer exists in perftui/core (the coordinator may swap it in).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(text: str, limit: int = 300) -> str:
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"
