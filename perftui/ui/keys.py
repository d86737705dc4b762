"""The dashboard's keys and command-palette entries, live and replay (one list each).

The footer shows the shown keys in this order and clips on the right: the ones a user needs first
(Quit, Help, Record, Report) come first, so an 80-column terminal keeps them visible.
Arrows move focus to the neighbouring panel in that direction (`neighbour`); Tab stays linear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

LIVE_BINDINGS: list[BindingType] = [
    Binding("q", "quit_app", "Quit"),
    Binding("ctrl+c", "quit_app", "Quit", show=False, priority=True),  # as in htop, btop, nvitop
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("r", "toggle_record", "Record"),
    Binding("s", "write_report", "Report"),
    Binding("p", "toggle_pause", "Pause"),
    # one hint for both: "+/- Interval" (the minus key is there, not shown twice)
    Binding("plus", "slower", "Interval", key_display="+/-"),
    Binding("minus", "faster", "Interval", show=False),
    Binding("w", "cycle_window", "Window"),
    Binding("enter", "detail", "Detail"),
    Binding("t", "cycle_theme", "Theme"),
    Binding("v", "toggle_process_view", "View"),
    Binding("left", "focus_toward('left')", "Focus", show=False),
    Binding("right", "focus_toward('right')", "Focus", show=False),
    Binding("up", "focus_toward('up')", "Focus", show=False),
    Binding("down", "focus_toward('down')", "Focus", show=False),
]

# on top of LIVE_BINDINGS (Textual merges them: a key here replaces the live one, in its place)
REPLAY_BINDINGS: list[BindingType] = [
    Binding("p", "toggle_pause", "Pause"),
    Binding("left", "seek(-1)", "-10 s", key_display="←", priority=True),
    Binding("right", "seek(1)", "+10 s", key_display="→", priority=True),
    Binding("home", "seek_start", "Start", show=False),
    Binding("end", "seek_end", "End", show=False),
    Binding("right_square_bracket", "speed(1)", "Faster", key_display="]"),
    Binding("left_square_bracket", "speed(-1)", "Slower", key_display="["),
    Binding("r", "toggle_record", "Record", show=False),
]

REPLAY_ACTIONS = frozenset({"seek", "seek_start", "seek_end", "speed"})

# the dashboard's `r` while recording: a second `r` within this many seconds stops it
STOP_CONFIRM_S = 4.0

Box = tuple[int, int, int, int]  # x, y, width, height (screen cells)
_T = TypeVar("_T")
_AXES = {"left": (0, -1), "right": (0, 1), "up": (1, -1), "down": (1, 1)}  # axis (0 x, 1 y), sign
OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}


def neighbour(current: Box, others: Sequence[tuple[_T, Box]], direction: str) -> _T | None:
    """The item of `others` next to `current` in `direction` ("left", "right", "up", "down").

    Candidates lie wholly beyond `current`'s edge on that side (1 cell of shared border allowed);
    the nearest gap wins among those facing it (their spans overlap across the move), then the one
    whose centre is closest across the move. None when nothing lies that way."""
    axis, sign = _AXES[direction]
    cross = 1 - axis
    lo, size = current[axis], current[axis + 2]
    c_lo, c_size = current[cross], current[cross + 2]
    c_mid = c_lo + c_size / 2
    best: tuple[tuple[int, float, float], _T] | None = None
    for item, box in others:
        b_lo, b_size = box[axis], box[axis + 2]
        gap = (b_lo - (lo + size)) if sign > 0 else (lo - (b_lo + b_size))
        if gap < -1 or box == current:
            continue
        x_lo, x_size = box[cross], box[cross + 2]
        overlap = min(c_lo + c_size, x_lo + x_size) - max(c_lo, x_lo)
        score = (0 if overlap > 0 else 1, float(max(gap, 0)), abs(x_lo + x_size / 2 - c_mid))
        if best is None or score < best[0]:
            best = (score, item)
    return None if best is None else best[1]


Action = Callable[[], object]


def live_commands(act: Callable[[str], Action]) -> Iterator[SystemCommand]:
    """The palette's dashboard entries; `act(name)` is the app's action_<name>."""
    yield SystemCommand("Pause / resume", "Freeze or resume the panels (p)", act("toggle_pause"))
    yield SystemCommand("Longer interval", "Sample less often (+)", act("slower"))
    yield SystemCommand("Shorter interval", "Sample more often (-)", act("faster"))
    yield SystemCommand("Cycle window", "History window 1, 5, 15 min (w)", act("cycle_window"))
    yield SystemCommand("Cycle theme", "Next perftui or Textual theme (t)", act("cycle_theme"))
    yield SystemCommand("Panel detail", "Larger plot and statistics (enter)", act("detail"))
    yield SystemCommand("Record", "Start / stop recording to a file in the cwd (r)", act("record_now"))
    yield SystemCommand("Report", "Markdown report of the current window (s)", act("write_report"))
    yield SystemCommand(
        "Process tree / stacks", "Switch the attached process view (v)", act("toggle_process_view")
    )
    yield SystemCommand("Keys", "Show the help screen (?)", act("help"))


def replay_commands(act: Callable[[str], Action], seek: Callable[[int], None]) -> Iterator[SystemCommand]:
    yield SystemCommand("Replay: pause / play", "Pause or resume the replay (p)", act("toggle_pause"))
    yield SystemCommand("Replay: back 10 s", "Seek back (←)", lambda: seek(-1))
    yield SystemCommand("Replay: forward 10 s", "Seek forward (→)", lambda: seek(1))
    yield SystemCommand("Replay: start", "Seek to the start (home)", act("seek_start"))
    yield SystemCommand("Replay: end", "Seek to the end (end)", act("seek_end"))
    yield SystemCommand("Replay: faster", "Speed up (])", act("speed_up"))
    yield SystemCommand("Replay: slower", "Slow down ([)", act("speed_down"))
