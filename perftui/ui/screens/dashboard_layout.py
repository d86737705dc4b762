"""What the dashboard mounts where: GPU panels as GPUs appear, disks/network where they fit, one
panel per inference server (`serve.*` keys) and the probe's panel, and each column's fr weights.

The screen owns the widgets; this class owns the decisions and the state they need (the GPU ids
and service panels shown, the weights set), so the render tick only calls `ensure` and `reweight`.
Service panels (serving, probe) go at the foot of the right-hand column, each as tall as its rows
(capped), and appear when their source first writes the store, like GPUs do.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from textual.containers import Container
from textual.widget import Widget

from perftui.store.metric_store import MetricStore
from perftui.ui import panels
from perftui.ui.layout import WIDE, arrange_gpu_grid, bottom_rows, gpu_classes, gpu_grid, service_rows
from perftui.ui.service_detail import PROBE_ID, SERVE_PREFIX
from perftui.ui.widgets.metric_panel import Builder, MetricPanel

MAX_PANEL_WEIGHT = 12  # rows; a panel with more shows "+N more" and its detail view has all
MAX_SERVING_PANELS = 4  # more servers (or models): the first four; `snapshot --json` has them all

HOST_PANELS: tuple[tuple[str, str, Builder], ...] = (
    ("cpu", "CPU", panels.cpu_content),
    ("memory", "Memory · PSI", panels.memory_content),
    ("disk", "Disks", panels.disk_content),
    ("net", "Network", panels.net_content),
)


def host_panels() -> list[MetricPanel]:
    return [MetricPanel(b, id=p, title=t) for p, t, b in HOST_PANELS]


def service_ids(store: MetricStore) -> tuple[str, ...]:
    """Panel ids for the services the store has data or a status for: `serve-<sid>` (sids are
    `[A-Za-z0-9_-]`, so valid ids), then `probe` once the probe has started."""
    ids = []
    if store.keys("serve."):  # a serving source has published: its panel's module loads now
        from perftui.ui.serving_panel import serving_sids

        ids = [SERVE_PREFIX + sid for sid in serving_sids(store)[:MAX_SERVING_PANELS]]
    if store.status("probe") is not None or store.detail("probe.target") is not None:
        ids.append(PROBE_ID)
    return tuple(ids)


def service_panel(panel_id: str) -> MetricPanel:
    if panel_id == PROBE_ID:
        from perftui.ui.probe_panel import probe_content

        return MetricPanel(probe_content, id=PROBE_ID, title="Probe")
    from perftui.ui.serving_panel import serving_content

    sid = panel_id[len(SERVE_PREFIX) :]
    return MetricPanel(partial(serving_content, sid=sid), id=panel_id, title=f"Serving {sid}")


class PanelLayout:
    """The panels the dashboard shows for what the store holds now."""

    def __init__(self, screen: Widget, *, gpu_enabled: bool) -> None:
        self.screen = screen
        self.gpu_enabled = gpu_enabled
        self.gpu_ids: list[int] | None = None
        self.services: tuple[str, ...] = ()
        self.weights: dict[str, int] = {}
        self.term_size: tuple[int, int] = (80, 24)

    def initial_gpu_ids(self, store: MetricStore) -> list[int]:
        if self.gpu_ids is None:
            self.gpu_ids = panels.gpu_indices(store) if self.gpu_enabled else []
        return self.gpu_ids

    def initial_services(self, store: MetricStore) -> list[MetricPanel]:
        self.services = service_ids(store)
        return [service_panel(i) for i in self.services]

    def gpu_panels(self, ids: list[int]) -> list[MetricPanel]:
        """A panel per GPU; none without GPUs (the header says why, no empty box)."""
        return [MetricPanel(partial(panels.gpu_content, i=i), id=f"gpu-{i}") for i in ids]

    # -- changes -----------------------------------------------------------------
    def ensure(self, store: MetricStore) -> bool:
        """Mount what changed (GPUs, services); True when the panel list changed."""
        gpus_changed = self._ensure_gpus(store)
        services_changed = self._ensure_services(store)
        if gpus_changed or services_changed:
            self.weights.clear()  # every column's weights are set again
            return True
        return False

    def _ensure_gpus(self, store: MetricStore) -> bool:
        ids = panels.gpu_indices(store) if self.gpu_enabled else []
        if ids == self.gpu_ids:
            return False
        screen = self.screen
        had_gpus = bool(self.gpu_ids)
        self.gpu_ids = ids
        for name, on in gpu_classes(ids).items():
            screen.set_class(on, name)
        gpus = screen.query_one("#gpus", Container)
        gpus.remove_children()
        gpus.mount_all(self.gpu_panels(ids))
        if had_gpus != bool(ids):
            # no GPU: disks and network go under the GPU notice; with GPUs: under memory
            for pid in ("disk", "net"):
                for old in screen.query(f"#{pid}"):
                    old.remove()
            moved = host_panels()[2:]
            if ids:
                screen.query_one("#left").mount_all(moved)
            else:
                first = self._first_service()
                screen.query_one("#right").mount_all(moved, before=first)
        self.arrange_gpus()
        return True

    def _first_service(self) -> Widget | None:
        for sid in self.services:
            found = self.screen.query(f"#{sid}")
            if found:
                return found.first()
        return None

    def _ensure_services(self, store: MetricStore) -> bool:
        want = service_ids(store)
        if want == self.services:
            return False
        right = self.screen.query_one("#right")
        for sid in self.services:
            if sid not in want:
                for old in self.screen.query(f"#{sid}"):
                    old.remove()
        new = [service_panel(sid) for sid in want if sid not in self.services]
        self.services = want
        if new:
            right.mount_all(new)
        return True

    def arrange_gpus(self) -> None:
        if not self.gpu_ids:
            return
        term_w, term_h = self.term_size
        self.screen.set_class(term_w >= WIDE, "-wide")
        gpus = self.screen.query_one("#gpus", Container)
        arrange_gpu_grid(gpus, gpus.query(MetricPanel), term_w, term_h)

    # -- heights -------------------------------------------------------------------
    def reweight(self, shown: Sequence[MetricPanel], bottom_want: int = 0) -> None:
        """Share the height: each panel as tall as its content (`natural_height`, capped), the rows
        left over to the diagnosis and process panes (`bottom_rows`); when the panels want more
        than there is, they share their column by fr weights (their wants). Service panels are
        exactly their rows (within `service_rows`); the GPU box takes the rest of its column."""
        changed = False
        cap = service_rows(self.term_size[1], len(self.services))
        columns: dict[str, int] = {}
        gpu_wants: list[int] = []
        for panel in shown:
            pid = panel.id
            if pid is None:
                continue
            column = "right" if pid in self.services or self._in_right(pid) else "left"
            if pid.startswith("gpu-"):
                gpu_wants.append(panel.natural_height())
                continue
            if pid in self.services:
                rows = min(panel.natural_height(), cap)
                columns[column] = columns.get(column, 0) + rows
                if self.weights.get(pid) != -rows:  # negative: a height in rows, not a weight
                    self.weights[pid] = -rows
                    panel.styles.height = rows
                continue
            # capped, so 32 disks or 64 NICs cannot squeeze CPU and memory down to a border
            want = min(panel.natural_height(), MAX_PANEL_WEIGHT)
            columns[column] = columns.get(column, 0) + want
            if self.weights.get(pid) != want:
                self.weights[pid] = want
                panel.styles.height = f"{want}fr"
                changed = True
        if gpu_wants:
            grid = gpu_grid(*self.term_size, len(gpu_wants))
            per = 1 if grid.compact else max(gpu_wants)
            columns["right"] = columns.get("right", 0) + grid.rows * per + (2 if grid.compact else 0)
        if changed or "#gpus" not in self.weights:
            self.weights["#gpus"] = 1
            gpus = self.screen.query_one("#gpus", Container)
            gpus.styles.height = "1fr"  # without GPUs, not displayed (app.tcss: -no-gpu)
        self._set_bottom(max(columns.values(), default=0), bottom_want, exact=changed)

    def _in_right(self, pid: str) -> bool:
        return pid.startswith("gpu-") or (not self.gpu_ids and pid in ("disk", "net"))

    def _set_bottom(self, body_want: int, bottom_want: int, *, exact: bool) -> None:
        """The diagnosis/process row's height; unless the panels changed (`exact`), it shrinks only
        by 2 rows or more at a time, so a diagnosis that changes by a line does not move every
        panel above it."""
        rows = bottom_rows(self.term_size[1], body_want, bottom_want)
        old = self.weights.get("#bottom")
        if old is not None and (rows == old or (not exact and 0 < old - rows < 2)):
            return
        self.weights["#bottom"] = rows
        self.screen.query_one("#bottom").styles.height = rows
