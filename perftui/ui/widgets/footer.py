"""The dashboard's footer: the key hints as one line widget, drawn as Textual's Footer draws them.

Textual's Footer is a container of one widget per key (12 on the dashboard), each styled, bound
to the footer's `compact` and restyled while the app starts, and composed again on every
bindings-updated signal: about a quarter of the dashboard's start-up work after the imports.
`KeyFooter` is one widget that renders the same cells (the same CSS variables, the same paddings:
" q Quit " per key, the command palette's key on the right after a "▏"), in the first frame, and
redraws only when the keys shown change. A click on a key presses it, as in Textual's footer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from perftui.ui.role_colors import css_text_color

KeyHint = tuple[str, str, str, bool]  # key, key display, description, enabled


class KeyFooter(Widget):
    """One line of key hints at the bottom of the screen."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"footer-key--key", "footer-key--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    KeyFooter > .footer-key--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyFooter > .footer-key--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: tuple[KeyHint, ...] = ()
        self._palette: KeyHint | None = None
        self._spans: list[tuple[int, int, str]] = []  # (x0, x1, key) of each hint, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._read_bindings()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Any) -> None:
        if self._read_bindings():
            self.refresh()

    def _read_bindings(self) -> bool:
        """The keys the footer shows now (one per action, as Textual's footer); True if changed."""
        active = self.screen.active_bindings
        keys: list[KeyHint] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                keys.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = (binding.key, self.app.get_key_display(binding), binding.description, enabled)
        changed = (tuple(keys), palette) != (self._keys, self._palette)
        self._keys, self._palette = tuple(keys), palette
        return changed

    def render_line(self, y: int) -> Strip:
        if not self._keys and self._palette is None and self.is_mounted:
            self._read_bindings()
        width = self.size.width
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        plain = Style(bgcolor=self.rich_style.bgcolor)  # the footer's empty part: its background only
        dim = Style(dim=True)
        segments: list[Segment] = []
        spans: list[tuple[int, int, str]] = []
        x = 0
        for key, display, description, enabled in self._keys:
            extra = Style() if enabled else dim
            x0 = x
            segments.append(Segment(f" {display} ", key_style + extra))
            if description:
                segments.append(Segment(f"{description} ", description_style + extra))
            x = sum(seg.cell_length for seg in segments)
            spans.append((x0, x, key))
        tail: list[Segment] = []
        if self._palette is not None:
            key, display, description, enabled = self._palette
            extra = Style() if enabled else dim
            tail = [
                Segment("▏", self._palette_border_style()),
                Segment(display, key_style + extra),
                Segment(f" {description}", description_style + extra),
                Segment(" ", plain),  # the key's right padding: background only
            ]
        room = max(0, width - Segment.get_line_length(tail))
        line = Strip(segments).crop_extend(0, room, plain)
        spans = [(x0, min(x1, room), k) for x0, x1, k in spans if x0 < room]
        if self._palette is not None:
            spans.append((room, width, self._palette[0]))
        self._spans = spans
        return Strip.join([line, Strip(tail)]).crop(0, width) if y == 0 else Strip.blank(width, plain)

    def _palette_border_style(self) -> Style:
        """The "▏" before the palette key: `$foreground 20%` over the footer's background."""
        background = self.styles.background
        foreground = self.app.theme_variables.get("foreground", "white")
        color = css_text_color(f"{foreground} 20%", background, background)
        return Style.from_color(color.rich_color, background.rich_color)

    def on_click(self, event: events.Click) -> None:
        for x0, x1, key in self._spans:
            if x0 <= event.x < x1:
                self.app.simulate_key(key)
                return
