"""The fleet screen's Monitor over a Prometheus server: one HostState per node, refreshed by a poll.

Each poll asks Prometheus for its targets (`discover_nodes`), the rows of every node at once
(`fetch_rows`: a handful of instant queries whatever the fleet's size) and the GPU models, and
turns each node's row into a `Tick` for its HostState — so the fleet screen, its sorting and
`--json` read a Prometheus fleet exactly as an SSH one. A node's verdict is its perftui exporter's
own when it runs one; otherwise perftui's engine over a `query_range` window of that node's
dcgm-exporter / node_exporter series, with a note of what those cannot tell. Those windows are
fetched for all such nodes in one batch (`fetch_windows`: ~22 range queries whatever the fleet's
size) and only every `verdict_every` seconds (30 s; a node seen for the first time gets its own at
once), which the row's evidence says. Queries run `api.parallel` at once. A poll that fails
leaves every node's last row, marked stale with Prometheus's one-line reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from perftui.fleet.prometheus_api import PrometheusApi, PrometheusError
from perftui.fleet.prometheus_rows import NodeRow, fetch_rows
from perftui.fleet.prometheus_source import (
    Node,
    NodeWindow,
    discover_nodes,
    fetch_windows,
    node_diagnosis,
    with_selector,
)
from perftui.fleet.protocol import Tick, Verdict
from perftui.fleet.state import DOWN, STALE, HostState
from perftui.fleet.text import visible

DEFAULT_INTERVAL_S = 5.0
WINDOW_S = 60.0  # the engine's window for nodes without a perftui exporter
VERDICT_EVERY_S = 30.0  # how often that window is fetched again (rows refresh every poll)
MODEL_QUERIES = (("perftui_gpu_info", "model"), ("DCGM_FI_DEV_GPU_TEMP", "modelName"))


class PrometheusMonitor:
    """The Monitor protocol of perftui.ui.fleet.app over a Prometheus server's HTTP API."""

    def __init__(
        self,
        api: PrometheusApi,
        *,
        selector: str = "",
        interval: float = DEFAULT_INTERVAL_S,
        window_s: float = WINDOW_S,
        verdict_every: float = VERDICT_EVERY_S,
        on_change: Callable[[HostState], None] | None = None,
    ) -> None:
        self.api = api
        self.selector = selector
        self.interval = interval
        self.window_s = window_s
        self.verdict_every = verdict_every
        self._engine: dict[str, Verdict] = {}  # node -> the engine's last verdict over its window
        self._engine_at: float | None = None  # monotonic time of the last full batch
        self.states: dict[str, HostState] = {}
        self.error: str | None = None  # the last poll's failure (None: it worked)
        self.polls = 0
        self.on_change = on_change  # the fleet app sets it when it takes this monitor
        self._task: asyncio.Task[None] | None = None

    # -- one poll (blocking: runs in a thread under the app) ---------------------------------
    def poll(self) -> None:
        """Ask Prometheus once; every node's HostState gets its row (or why it has none)."""
        try:
            nodes = _discover(self.api, self.selector)
            rows = fetch_rows(self.api, nodes, self.selector)
            models = self._models(nodes)
            now_wall, now = time.time(), time.monotonic()
            self._engine_verdicts(nodes, rows, now_wall, now)
            for node in nodes:
                self._apply(node, rows.get(node.name, NodeRow()), models.get(node.name, {}), now_wall, now)
        except PrometheusError as exc:
            self.error = visible(str(exc))
            for st in self.states.values():
                st.fail(f"Prometheus: {self.error}", STALE)
                self._changed(st)
            return
        self.error = None
        self.polls += 1

    def _models(self, nodes: list[Node]) -> dict[str, dict[str, str]]:
        """node -> {gpu index: model name}, from perftui's gpu_info or dcgm-exporter's labels."""
        by_instance = {inst: n.name for n in nodes for inst in n.instances}
        out: dict[str, dict[str, str]] = {}
        got = self.api.query_all(
            [
                f"group by (instance, gpu, {label}) ({with_selector(metric, self.selector)})"
                for metric, label in MODEL_QUERIES
            ]
        )
        for (_, label), series in zip(MODEL_QUERIES, got, strict=True):
            for s in series:
                labels = s["metric"]
                node = by_instance.get(labels.get("instance", ""))
                if node is not None and labels.get(label):
                    out.setdefault(node, {}).setdefault(str(labels.get("gpu", "")), str(labels[label]))
        return out

    def _apply(self, node: Node, row: NodeRow, models: dict[str, str], now_wall: float, now: float) -> None:
        st = self.states.get(node.name)
        if st is None:
            st = self.states[node.name] = HostState(node.name, interval_s=self.interval)
        if not node.up:
            down = ", ".join(f"{t.job} {t.instance}" for t in node.targets if not t.up)
            st.fail(visible(f"target down in Prometheus: {down}"), DOWN)
            self._changed(st)
            return
        verdict = self._verdict(node, row)
        facts: dict[str, Any] = {
            "host": node.name,
            "gpus": [
                {"index": i, "name": m} for i, m in sorted(models.items(), key=lambda p: (len(p[0]), p[0]))
            ],
            "prometheus": {"instances": node.instances, "exporters": sorted(node.kinds)},
        }
        seq = st.ticks
        tick = Tick(
            seq,
            now_wall,
            self.interval,
            {k: v for k, v in row.values.items() if v == v},  # NaN: no value
            {},
            {"prometheus": (True, None)},
            verdict,
            facts if seq == 0 or facts != st.facts else None,
        )
        st.apply(tick, now)
        self._changed(st)

    def _verdict(self, node: Node, row: NodeRow) -> Verdict | None:
        if row.verdict:  # the node's perftui exporter diagnosed itself
            return Verdict(row.verdict, row.confidence or "", row.verdict, "perftui exporter's verdict")
        return self._engine.get(node.name)

    def _engine_verdicts(
        self, nodes: list[Node], rows: dict[str, NodeRow], now_wall: float, now: float
    ) -> None:
        """The engine's verdicts of the nodes that publish none: all of them in one batch every
        `verdict_every` s; in between, only for nodes not seen before."""
        want = [n for n in nodes if n.up and n.kinds and not rows.get(n.name, NodeRow()).verdict]
        due = self._engine_at is None or now - self._engine_at >= self.verdict_every
        todo = want if due else [n for n in want if n.name not in self._engine]
        if todo:
            step = max(1.0, self.interval)
            windows = fetch_windows(self.api, todo, now_wall - self.window_s, now_wall, step)
            for name, window in windows.items():
                self._engine[name] = self._diagnose(window)
        if due:
            self._engine_at = now
        keep = {n.name for n in want}
        for name in [k for k in self._engine if k not in keep]:
            del self._engine[name]

    def _diagnose(self, window: NodeWindow) -> Verdict:
        diag = node_diagnosis(window.store, self.window_s)
        primary = diag.primary
        # the cadence first: the notes after it may be cut at the row's length
        every = f"engine over the last {self.window_s:g} s, refreshed every {self.verdict_every:g} s"
        notes = "; ".join([every, *window.notes])
        evidence = f"{primary.evidence[0]} ({notes})" if primary is not None and primary.evidence else notes
        title = primary.title if primary is not None else str(diag.verdict)
        return Verdict(str(diag.verdict), str(diag.confidence), visible(title), visible(evidence))

    def _changed(self, st: HostState) -> None:
        if self.on_change is not None:
            self.on_change(st)

    # -- the Monitor protocol ------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.to_thread(self.poll)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def refresh(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for st in self.states.values():
            st.refresh(now)


def _discover(api: PrometheusApi, selector: str) -> list[Node]:
    nodes = discover_nodes(api, selector)
    if not nodes:
        where = f" matching {selector}" if selector else ""
        raise PrometheusError(f"{api.base} scrapes no targets{where} (`up` is empty)")
    return nodes
