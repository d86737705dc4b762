"""Which terminal driver a perftui app runs on (the dashboard's and the fleet's alike).

perftui's quiet Linux driver (perftui.ui.driver: its input thread sleeps until input instead of
waking ten times a second) on Linux, unless TEXTUAL_DRIVER names another one (textual-serve's, in
browser mode) or this Textual lacks what it builds on; else the app's own default."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from perftui.ui import textual_compat

if TYPE_CHECKING:
    from textual.driver import Driver


def driver_for(default: type[Driver]) -> type[Driver]:
    if not sys.platform.startswith("linux") or os.environ.get("TEXTUAL_DRIVER"):
        return default
    if not textual_compat.available("quiet_driver"):
        return default
    from perftui.ui.driver import QuietLinuxDriver  # imports Textual's LinuxDriver: Linux only

    return QuietLinuxDriver
