"""The modules a piece of code leaves loaded, run in a fresh interpreter (import-hygiene tests)."""

from __future__ import annotations

import subprocess
import sys


def loaded_modules(code: str) -> set[str]:
    """`sys.modules` after running `code` in a new process of this interpreter (which must succeed)."""
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(out.stdout.split())
