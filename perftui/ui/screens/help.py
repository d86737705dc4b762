"""The `?` help screen: keys, what the panels show, what the GPU tiers mean."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("q / ctrl+c", "quit"),
    ("p", "pause / resume the panels (sampling goes on)"),
    ("+ / -", "sampling interval longer / shorter (0.05 s to 60 s)"),
    ("w", "cycle the history window: 1, 5, 15 min"),
    ("arrows", "move focus to the panel in that direction"),
    ("tab", "move focus to the next panel, in order"),
    ("enter", "detail of the focused panel; the full view on Diagnosis / Processes"),
    ("pgup / pgdn", "scroll the Diagnosis or Processes pane; a page of the process list"),
    ("escape", "close a detail, full view or help screen"),
    ("t", "cycle the theme"),
    ("r", "start recording to a timestamped .sqlite file in the cwd; r twice stops it"),
    ("s", "write a Markdown report of the current window to the cwd"),
    ("v", "attached process: switch between process tree and stacks"),
    ("ctrl+p", "command palette (every action above)"),
    ("?", "this help"),
)

PROCESS_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ / ↓", "select a process (pgup / pgdn: a page)"),
    ("o", "sort by CPU, memory, GPU memory, SM %, disk, name"),
    ("/", "filter: command, user, container, PID (enter keeps, escape clears)"),
    ("a", "attach live to the selected process; a again detaches"),
    ("k", "SIGTERM, after a confirmation; K in it: SIGKILL (asked again)"),
    ("", "only your own processes (any as root); on others k says why"),
)

REPLAY_KEYS: tuple[tuple[str, str], ...] = (
    ("p", "pause / play the replay"),
    ("← / →", "seek 10 s back / forward"),
    ("home / end", "seek to the start / the end"),
    ("[ / ]", "replay slower / faster"),
)

NOTES = (
    "Each row: label, latest value, and a sparkline of the per-column maximum over the window.",
    "GPU tiers: GPM = Hopper+ counters (SM active, tensor, DRAM bandwidth): verdicts with high confidence. "
    "NVML only = utilisation is a time fraction (100 % does not mean compute-bound): low confidence.",
    "A source that cannot be read shows why; one that stopped answering shows 'stale'.",
)


def help_text() -> str:
    lines = ["perftui keys", ""]
    lines += [f"  {k:<14} {d}" for k, d in KEYS]
    lines += ["", "Processes pane, the process list (focus it: tab or the arrows)"]
    lines += [f"  {k:<14} {d}" for k, d in PROCESS_KEYS]
    lines += ["", "perftui replay FILE"]
    lines += [f"  {k:<14} {d}" for k, d in REPLAY_KEYS]
    lines += ["", *NOTES, "", "escape, q or ? closes this screen"]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_screen", "Close"),
        Binding("q", "dismiss_screen", "Close", show=False),
        Binding("question_mark", "dismiss_screen", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content(help_text()), id="help-text")

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)
