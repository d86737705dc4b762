"""The real `perftui` command in a subprocess, as the end-to-end tests run it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def perftui(
    *args: str, timeout: float = 60, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m perftui ARGS` with this interpreter; output captured, no terminal on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "perftui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=None if env is None else dict(env),
    )
