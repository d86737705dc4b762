"""The garbage collector during the dashboard's start.

Importing Textual and perftui and building the first screen allocates ~57,000 objects that live as
long as the process (modules, classes, functions, widgets). Each of them makes the cyclic collector
run again, and each full collection scans all of them: measured on the 2-core VM, ~60 ms of
collections before the first frame (a bare Textual app: ~20 ms), collecting next to nothing.
The dashboard command holds the collector from its first line to its first frame, then moves
everything made so far out of the collector's sight (`gc.freeze`: later full collections do not
scan it again) and turns it back on. Nothing else in perftui touches the collector.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Turn the collector off for the start (a no-op where it was off already)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release(*, freeze: bool) -> None:
    """Turn it back on if `hold` turned it off; `freeze`: first move every object that exists now
    (the start's, long-lived) to the permanent generation. Safe to call any number of times."""
    global _held
    if not _held:
        return
    _held = False
    if freeze:
        gc.freeze()
    gc.enable()


def held() -> bool:
    return _held
