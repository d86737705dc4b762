"""The dashboard's footer: the key hints, in the very first frame."""

from __future__ import annotations

from textual.widgets import Footer

from perftui.ui import textual_compat


class PromptFooter(Footer):
    """Textual's Footer, with its keys in the very first frame: the stock one waits for a
    bindings-updated signal and then recomposes a refresh later (~0.15 s after the first paint)."""

    def __init__(self) -> None:
        super().__init__()
        textual_compat.footer_ready(self)  # the app's and screen's bindings are known at compose time
