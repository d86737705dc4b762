"""The one pattern of the files perftui names itself: `perftui-<kind>-<host>-<YYYYmmdd-HHMMSS>.<ext>`.

`perftui record` and the dashboard's `r` both write `perftui-rec-…sqlite`, the dashboard's `s`
`perftui-report-…md`. No I/O beyond the existence check of `unused_path`.
"""

from __future__ import annotations

import re
import socket
import time
from datetime import datetime
from pathlib import Path


def timestamped_name(kind: str, ext: str, *, host: str | None = None, now: float | None = None) -> str:
    host = re.sub(r"[^A-Za-z0-9_.-]+", "_", host or socket.gethostname()) or "host"
    stamp = datetime.fromtimestamp(time.time() if now is None else now).strftime("%Y%m%d-%H%M%S")
    return f"perftui-{kind}-{host}-{stamp}.{ext}"


def unused_path(directory: Path, name: str) -> Path:
    """`directory/name`, or `…-1`, `…-2` before the extension when that file exists."""
    path = directory / name
    stem, dot, ext = name.rpartition(".")
    n = 1
    while path.exists():
        path = directory / f"{stem}-{n}{dot}{ext}"
        n += 1
    return path
