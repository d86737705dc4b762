"""Arrow keys on the dashboard: focus the neighbouring panel in that direction; the opposite arrow
goes back to the panel it came from (Tab stays linear). The geometry is `keys.neighbour`'s."""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget

from perftui.ui import keys


class ArrowFocus:
    """Remembers the last arrow move, so the opposite arrow returns where it came from."""

    def __init__(self) -> None:
        self._from: tuple[Widget, Widget, str] | None = None  # (now focused, came from, back key)

    def move(self, screen: Screen[object], focused: Widget | None, direction: str) -> None:
        chain = [w for w in screen.focus_chain if w.display and w.region.area]
        if focused is None or focused not in chain:
            if chain:
                chain[0].focus()
            return
        back = self._from
        if back is not None and back[0] is focused and back[2] == direction and back[1] in chain:
            target: Widget | None = back[1]
        else:
            others = [(w, tuple(w.region)) for w in chain if w is not focused]
            target = keys.neighbour(tuple(focused.region), others, direction)  # type: ignore[arg-type]
        if target is not None:
            self._from = (target, focused, keys.OPPOSITE[direction])
            target.focus()
