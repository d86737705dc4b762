"""One-line header: host, GPUs, driver, interval, window, counter tier, pause, replay and recording state."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from textual.content import Content
from textual.widget import Widget

from perftui.core.details import gpu_driver, gpu_info
from perftui.store.metric_store import MetricStore
from perftui.ui.cgroup_panel import container_fact
from perftui.ui.panels import gpu_indices, no_gpu_reason


def header_text(
    store: MetricStore,
    *,
    hostname: str,
    interval: float,
    window: float,
    paused: bool,
    gpu_enabled: bool,
    mode: str | None = None,
    recording: str | None = None,
) -> str:
    """`mode` (the replay's "REPLAY file · position · speed") goes first, then PAUSED and "● REC file"
    (the state a user acts on, never cut off), the GPUs, interval and window, then long facts."""
    parts = ["perftui", hostname] if mode is None else [mode, hostname]
    # the live state first: a long header (GPU names, a container) is cut at the right edge
    if paused:
        parts.append("PAUSED")
    if recording:
        parts.append(f"● REC {recording}")
    idx = gpu_indices(store)
    if idx:
        names = Counter(gpu_info(store, i).get("name") or "GPU" for i in idx)
        parts.append(" + ".join(f"{n}× {name}" for name, n in names.items()))
        driver = gpu_driver(store)
        if driver is not None and driver["driver"]:
            parts.append(f"driver {driver['driver']}")
        tiers = Counter(str(store.detail(f"gpu.{i}.tier", "?")) for i in idx)
        parts.append(
            "tier "
            + ", ".join(f"{t.upper()}" + (f"×{n}" if len(tiers) > 1 else "") for t, n in tiers.items())
        )
    elif gpu_enabled:
        parts.append("no GPU")
    else:
        parts.append("GPU off (--no-gpu)")
    parts.append(f"every {interval:g} s")
    parts.append(f"window {window / 60:g} min" if window >= 60 else f"window {window:g} s")
    fact = container_fact({"cgroup.self": store.detail("cgroup.self")})
    if fact is not None:  # perftui in a container: its /proc is the container's (issue 26)
        parts.append(fact)
    if gpu_enabled and not idx:  # no GPU box: this line says why (last, after the live state)
        parts.append(f"GPU: {no_gpu_reason(store)}")
    return " · ".join(parts)


class HeaderBar(Widget):
    """Re-rendered only when its text changes."""

    span_safe: ClassVar[bool] = True  # plain text through Textual's own per-line render

    def __init__(self, *, id: str = "header") -> None:
        super().__init__(id=id)
        self._text = "perftui"

    def set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.refresh()

    @property
    def text(self) -> str:
        return self._text

    def render(self) -> Content:
        return Content(self._text)
