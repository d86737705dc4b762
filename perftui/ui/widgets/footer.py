"""The dashboard's footer: Textual's Footer, with its keys in the first frame and composed again
only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer

from perftui.ui import textual_compat


class PromptFooter(Footer):
    """Textual's Footer, with its keys in the very first frame: the stock one waits for a
    bindings-updated signal and then recomposes a refresh later (~0.15 s after the first paint).

    The stock footer also composes its ~12 key widgets again on every bindings-updated signal (each
    focus change: four times while the dashboard starts), and each new key widget is styled again;
    this one does so only when the keys shown, their labels or their enabled state have changed.
    """

    def __init__(self) -> None:
        super().__init__()
        textual_compat.footer_ready(self)  # the app's and screen's bindings are known at compose time
        self._shown: tuple[Any, ...] | None = None

    def _keys(self) -> tuple[Any, ...]:
        return tuple(
            (key, b.binding.action, b.binding.description, b.binding.key_display, b.enabled)
            for key, b in self.screen.active_bindings.items()
            if b.binding.show
        )

    def compose(self) -> ComposeResult:
        composed = super().compose()
        self._shown = self._keys() if self.is_attached else None
        yield from composed

    def bindings_changed(self, screen: Any) -> None:
        if (
            self._shown is not None
            and self.is_attached
            and screen is self.screen
            and self._keys() == self._shown
        ):
            return  # the same keys: nothing to compose again
        super().bindings_changed(screen)
