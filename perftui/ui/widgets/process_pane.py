"""The process pane: GPU processes when the GPU sampler reports them, else how to attach."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.widget import Widget

from perftui.core.units import format_bytes
from perftui.store.metric_store import MetricStore

ATTACH_HINT = "no process attached: run perftui --pid PID to follow one process tree"


def process_lines(store: MetricStore) -> list[str]:
    procs: Any = store.detail("gpu.processes")
    if not isinstance(procs, list) or not procs:
        return []
    rows = [p for p in procs if isinstance(p, dict)]
    rows.sort(key=lambda p: -float(p.get("used_bytes") or 0))
    out = [f"{'GPU':>3} {'PID':>7} {'GPU mem':>9} {'SM':>4} {'mem':>4}"]

    def pct(v: Any) -> str:
        return "—" if v is None else f"{float(v):.0f}%"

    for p in rows:
        used = p.get("used_bytes")
        out.append(
            f"{p.get('gpu', '?')!s:>3} {p.get('pid', '?')!s:>7} "
            f"{'—' if used is None else format_bytes(float(used)):>9} "
            f"{pct(p.get('sm_util')):>4} {pct(p.get('mem_util')):>4}"
        )
    return out


class ProcessPane(Widget, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"pane--title", "pane--dim", "pane--text"}

    def __init__(self, *, id: str = "processes") -> None:
        super().__init__(id=id)
        self.border_title = "Processes"
        self._lines: list[str] = []

    @property
    def lines(self) -> list[str]:
        return self._lines

    def update_view(self, store: MetricStore) -> None:
        lines = process_lines(store)
        if lines != self._lines or not self.is_mounted:
            self._lines = lines
            self.refresh()

    def render(self) -> Text:
        if not self._lines:
            return Text(ATTACH_HINT, style=self.get_component_rich_style("pane--dim"))
        text = Text(
            self._lines[0],
            style=self.get_component_rich_style("pane--title"),
            no_wrap=True,
            overflow="ellipsis",
        )
        body = self.get_component_rich_style("pane--text")
        for line in self._lines[1:]:
            text.append("\n" + line, style=body)
        return text
