"""The dashboard's keys and command-palette entries, live and replay (one list each)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

LIVE_BINDINGS: list[BindingType] = [
    Binding("q", "quit_app", "Quit"),
    Binding("p", "toggle_pause", "Pause"),
    Binding("plus", "slower", "+Interval", key_display="+"),
    Binding("minus", "faster", "-Interval", key_display="-"),
    Binding("w", "cycle_window", "Window"),
    Binding("enter", "detail", "Detail"),
    Binding("t", "cycle_theme", "Theme"),
    Binding("r", "toggle_record", "Record"),
    Binding("s", "write_report", "Report"),
    Binding("v", "toggle_process_view", "View"),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("left,up", "app.focus_previous", "Focus", show=False),
    Binding("right,down", "app.focus_next", "Focus", show=False),
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

Action = Callable[[], object]


def live_commands(act: Callable[[str], Action]) -> Iterator[SystemCommand]:
    """The palette's dashboard entries; `act(name)` is the app's action_<name>."""
    yield SystemCommand("Pause / resume", "Freeze or resume the panels (p)", act("toggle_pause"))
    yield SystemCommand("Longer interval", "Sample less often (+)", act("slower"))
    yield SystemCommand("Shorter interval", "Sample more often (-)", act("faster"))
    yield SystemCommand("Cycle window", "History window 1, 5, 15 min (w)", act("cycle_window"))
    yield SystemCommand("Cycle theme", "Next perftui or Textual theme (t)", act("cycle_theme"))
    yield SystemCommand("Panel detail", "Larger plot and statistics (enter)", act("detail"))
    yield SystemCommand("Record", "Start / stop recording to a file in the cwd (r)", act("toggle_record"))
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
