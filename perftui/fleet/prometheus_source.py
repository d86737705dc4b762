"""A fleet read from a Prometheus server: the nodes it scrapes, and one MetricStore per node filled
from a `query_range` window, so perftui's own diagnosis engine gives each node a verdict.

Node names come from the exporters' own labels: perftui's `host`, dcgm-exporter's `Hostname` (up to
4.5.3-4.8.2) or `hostname` (after), node_exporter's `node_uname_info{nodename}`, else the target's
`instance` without its port. Series come from perftui's exporter when a node runs it (every metric,
back under its perftui key); otherwise from dcgm-exporter and node_exporter, with a note of what
those cannot tell (and the confidence the diagnosis then gives says so itself).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from perftui.core.specs import REGISTRY
from perftui.core.types import SourceStatus
from perftui.diagnosis.model import Diagnosis
from perftui.exporter.dcgm import FIELDS, MIB
from perftui.exporter.names import prom_name
from perftui.fleet.prometheus_api import PrometheusApi, Series, sample_value
from perftui.store.metric_store import MetricStore, capacity_for

NODE_NAME_QUERIES: tuple[tuple[str, str, str], ...] = (
    # (kind, label holding the node name, metric that carries it)
    ("perftui", "host", "perftui_exporter_info"),
    ("dcgm", "Hostname", "DCGM_FI_DEV_GPU_TEMP"),
    ("dcgm", "hostname", "DCGM_FI_DEV_GPU_TEMP"),
    ("node", "nodename", "node_uname_info"),
)


@dataclass
class Target:
    job: str
    instance: str
    up: bool


@dataclass
class Node:
    name: str
    targets: list[Target] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # "perftui", "dcgm", "node"

    @property
    def instances(self) -> list[str]:
        return sorted({t.instance for t in self.targets})

    @property
    def up(self) -> bool:
        return any(t.up for t in self.targets)


def with_selector(metric: str, selector: str = "", extra: str = "") -> str:
    """`metric{<selector's matchers>,<extra>}`; selector is written `{job="gpu"}` (braces optional)."""
    inner = selector.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    parts = [p for p in (inner.strip().strip(","), extra) if p]
    return f"{metric}{{{','.join(parts)}}}" if parts else metric


def instance_host(instance: str) -> str:
    m = re.match(r"^\[([^\]]+)\](?::\d+)?$", instance) or re.match(r"^([^:]+)(?::\d+)?$", instance)
    return m.group(1) if m else instance


def discover_nodes(api: PrometheusApi, selector: str = "") -> list[Node]:
    """Every scraped target grouped into nodes (a node with perftui, dcgm- and node_exporter is one)."""
    name_queries = [
        f"group by (instance, {label}) ({with_selector(metric, selector)})"
        for _, label, metric in NODE_NAME_QUERIES
    ]
    up, *named = api.query_all([with_selector("up", selector), *name_queries])
    targets = [
        Target(
            str(s["metric"].get("job", "")),
            str(s["metric"].get("instance", "")),
            sample_value(s["value"][1]) == 1.0,
        )
        for s in up
    ]
    names: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    for (kind, label, _), got in zip(NODE_NAME_QUERIES, named, strict=True):
        for s in got:
            inst, value = s["metric"].get("instance"), s["metric"].get(label)
            if inst and value:
                names.setdefault(inst, value)
                kinds.setdefault(inst, set()).add(kind)
    nodes: dict[str, Node] = {}
    for t in targets:
        name = names.get(t.instance) or instance_host(t.instance)
        node = nodes.setdefault(name, Node(name))
        node.targets.append(t)
        node.kinds |= kinds.get(t.instance, set())
    return sorted(nodes.values(), key=lambda n: n.name)


# -- perftui's exporter: its names back to perftui keys ----------------------------------------
def _perftui_reverse() -> dict[tuple[str, str | None], tuple[str, str, str | None, float]]:
    """(Prometheus name, percentile label or None) -> (key head, key tail, label carrying the
    wildcard or None, scale). Latency quantile keys share one family told apart by `percentile`."""
    out: dict[tuple[str, str | None], tuple[str, str, str | None, float]] = {}
    for spec in REGISTRY.all():
        if spec.pattern.count("*") > 1:
            continue
        head, star, tail = spec.pattern.partition("*")
        pn = prom_name(spec.pattern.replace("*", "0"))
        labels = dict(pn.labels)
        pct = labels.pop("percentile", None)
        if star and len(labels) == 1:
            out.setdefault((pn.name, pct), (head, tail, next(iter(labels)), pn.scale))
        elif not star and not labels:
            out.setdefault((pn.name, pct), (spec.pattern, "", None, pn.scale))
    return out


_PERFTUI = _perftui_reverse()


def perftui_key(metric: dict[str, str]) -> tuple[str, float] | None:
    """(perftui key, scale to undo) of one perftui-exporter series, or None for one with no key."""
    hit = _PERFTUI.get((metric.get("__name__", ""), metric.get("percentile")))
    if hit is None:
        return None
    head, tail, label, scale = hit
    if label is None:
        return head, scale
    value = metric.get(label)
    return (f"{head}{value}{tail}", scale) if value else None


# -- dcgm-exporter and node_exporter ---------------------------------------------------------
_DCGM: dict[str, tuple[str, float]] = {f.name: (f.keys[-1], f.scale) for f in FIELDS if f.keys}


def _node_exporter_queries(m: str, r: str) -> list[tuple[str, str]]:
    """(PromQL, perftui key or a `{label}` template) over node_exporter's series; m: matchers, r: range."""
    cpu = f"node_cpu_seconds_total{{{m}"
    return [
        (f'100 * (1 - avg by (instance) (rate({cpu},mode="idle"}}[{r}])))', "cpu.util"),
        (f'100 * avg by (instance) (rate({cpu},mode="iowait"}}[{r}]))', "cpu.iowait"),
        (f'100 * avg by (instance) (rate({cpu},mode="steal"}}[{r}]))', "cpu.steal"),
        (f'100 * avg by (instance) (rate({cpu},mode="user"}}[{r}]))', "cpu.user"),
        (f'100 * avg by (instance) (rate({cpu},mode="system"}}[{r}]))', "cpu.system"),
        (f'count by (instance) ({cpu},mode="idle"}})', "cpu.cores"),
        (f"node_load1{{{m}}}", "cpu.load1"),
        (f"node_memory_MemTotal_bytes{{{m}}}", "mem.total_bytes"),
        (f"node_memory_MemAvailable_bytes{{{m}}}", "mem.available_bytes"),
        (
            f"100 * (1 - node_memory_MemAvailable_bytes{{{m}}} / node_memory_MemTotal_bytes{{{m}}})",
            "mem.used_pct",
        ),
        (f"100 * rate(node_pressure_cpu_waiting_seconds_total{{{m}}}[{r}])", "psi.cpu.some_rate"),
        (f"100 * rate(node_pressure_io_waiting_seconds_total{{{m}}}[{r}])", "psi.io.some_rate"),
        (f"100 * rate(node_pressure_io_stalled_seconds_total{{{m}}}[{r}])", "psi.io.full_rate"),
        (f"100 * rate(node_pressure_memory_waiting_seconds_total{{{m}}}[{r}])", "psi.memory.some_rate"),
        (f"100 * rate(node_pressure_memory_stalled_seconds_total{{{m}}}[{r}])", "psi.memory.full_rate"),
        (f"100 * rate(node_disk_io_time_seconds_total{{{m}}}[{r}])", "disk.{device}.busy_pct"),
        (f"rate(node_disk_read_bytes_total{{{m}}}[{r}])", "disk.{device}.read_bytes_per_s"),
        (f"rate(node_disk_written_bytes_total{{{m}}}[{r}])", "disk.{device}.write_bytes_per_s"),
        (f"rate(node_network_receive_bytes_total{{{m}}}[{r}])", "net.{device}.rx_bytes_per_s"),
        (f"rate(node_network_transmit_bytes_total{{{m}}}[{r}])", "net.{device}.tx_bytes_per_s"),
    ]


@dataclass
class NodeWindow:
    node: Node
    store: MetricStore
    notes: list[str] = field(default_factory=list)


def _load(store: MetricStore, key: str, series: Series, scale: float = 1.0) -> None:
    values = series.get("values") or []
    if not values:
        return
    ts = np.fromiter((float(v[0]) for v in values), dtype=np.float64, count=len(values))
    vals = np.fromiter((sample_value(v[1]) for v in values), dtype=np.float64, count=len(values))
    store.extend(key, ts, vals / scale if scale != 1.0 else vals)


def _instance_matcher(nodes: Iterable[Node]) -> str:
    # a regex inside a PromQL string: the regex's backslashes are escaped once more for the string
    insts = sorted({i for n in nodes for i in n.instances})
    alts = "|".join(re.escape(i).replace("\\", "\\\\").replace('"', '\\"') for i in insts)
    return f'instance=~"{alts}"'


def fetch_node(api: PrometheusApi, node: Node, start: float, end: float, step: float) -> NodeWindow:
    """One node's window [start, end] at `step`, into a store of its own."""
    return fetch_windows(api, [node], start, end, step)[node.name]


def fetch_windows(
    api: PrometheusApi, nodes: list[Node], start: float, end: float, step: float
) -> dict[str, NodeWindow]:
    """Every node's window [start, end] at `step`, each into a store of its own, from one batch of
    range queries whatever the fleet's size (one per metric family over all the nodes' instances,
    `api.parallel` at once): 1 for perftui's exporters, 1 for dcgm-exporter, 20 for node_exporter."""
    out = {n.name: NodeWindow(n, MetricStore(capacity=capacity_for(end - start + step, step))) for n in nodes}
    owner = {i: out[n.name] for n in nodes for i in n.instances}
    own = [n for n in nodes if "perftui" in n.kinds]
    dcgm = [n for n in nodes if "perftui" not in n.kinds and "dcgm" in n.kinds]
    node_exp = [n for n in nodes if "perftui" not in n.kinds and "node" in n.kinds]
    jobs: list[tuple[str, Callable[[NodeWindow, Series], None]]] = []
    if own:
        jobs.append((f'{{__name__=~"perftui_.+",{_instance_matcher(own)}}}', _perftui_series))
    free: dict[tuple[str, str], Series] = {}  # (node, gpu) -> DCGM_FI_DEV_FB_FREE
    if dcgm:
        names = "|".join(_DCGM) + "|DCGM_FI_DEV_FB_FREE"

        def dcgm_series(w: NodeWindow, s: Series) -> None:
            if s["metric"].get("__name__") == "DCGM_FI_DEV_FB_FREE":
                free[(w.node.name, s["metric"].get("gpu", ""))] = s
            else:
                _dcgm_series(w, s)

        jobs.append((f'{{__name__=~"{names}",{_instance_matcher(dcgm)}}}', dcgm_series))
    if node_exp:
        rng = f"{max(30, int(4 * step))}s"
        for promql, template in _node_exporter_queries(_instance_matcher(node_exp), rng):

            def node_series(w: NodeWindow, s: Series, template: str = template) -> None:
                _load(w.store, template.format(device=s["metric"].get("device", "")), s)

            jobs.append((promql, node_series))
    results = api.query_range_all([q for q, _ in jobs], start, end, step)
    for (_, handle), got in zip(jobs, results, strict=True):
        for s in got:
            w = owner.get(s["metric"].get("instance", ""))
            if w is not None:
                handle(w, s)
    for (name, i), fb_free in free.items():
        _fb_total(out[name].store, i, fb_free)
    for w in out.values():
        _finish(w)
    return out


def _perftui_series(w: NodeWindow, s: Series) -> None:
    labels = s["metric"]
    if labels.get("__name__") == "perftui_gpu_info":
        i = labels.get("gpu", "")
        info = {
            "index": int(i) if i.isdigit() else i,
            "uuid": labels.get("uuid"),
            "name": labels.get("model"),
            "pci_bus_id": labels.get("pci_bus_id"),
        }
        w.store.set_detail(f"gpu.{i}.info", info)
        if labels.get("tier"):
            w.store.set_detail(f"gpu.{i}.tier", labels["tier"])
        return
    hit = perftui_key(labels)
    if hit is not None:
        _load(w.store, hit[0], s, hit[1])


def _dcgm_series(w: NodeWindow, s: Series) -> None:
    labels, i = s["metric"], s["metric"].get("gpu", "")
    key, scale = _DCGM[labels.get("__name__", "")]
    _load(w.store, f"gpu.{i}.{key}", s, scale)
    w.store.set_detail(
        f"gpu.{i}.info",
        {
            "index": int(i) if i.isdigit() else i,
            "uuid": labels.get("UUID"),
            "name": labels.get("modelName"),
            "pci_bus_id": labels.get("pci_bus_id"),
        },
    )


def _finish(w: NodeWindow) -> None:
    """GPU tiers, and the notes of what a node's exporters cannot tell."""
    store, kinds = w.store, w.node.kinds
    if "perftui" not in kinds:
        if "dcgm" in kinds:
            gpus = _gpu_indices(store.keys("gpu."))
            for i in gpus:
                store.set_detail(
                    f"gpu.{i}.tier", "gpm" if store.latest(f"gpu.{i}.sm_active") is not None else "nvml"
                )
            if not any(k.endswith(".sm_active") for k in store.keys("gpu.")):
                w.notes.append(
                    "dcgm-exporter has no DCGM_FI_PROF_SM_ACTIVE here: GPU verdicts from utilization only"
                )
        if "node" not in kinds:
            w.notes.append("no node_exporter: no CPU, memory, disk or network signals")
        w.notes.append("no perftui exporter: no per-process, Python stack or NVLink-per-tick signals")
    store.set_status("prometheus", SourceStatus.ok())


def _fb_total(store: MetricStore, i: str, free_series: Series) -> None:
    """dcgm-exporter has used and free MiB; perftui keys total and used %."""
    ts, used = store.series(f"gpu.{i}.mem_used_bytes")
    free = {float(v[0]): sample_value(v[1]) * MIB for v in free_series.get("values") or []}
    keep = np.array([t in free for t in ts.tolist()], dtype=bool)
    if not keep.any():
        return
    t_arr, used_at = ts[keep], used[keep]
    total = used_at + np.array([free[t] for t in t_arr.tolist()])
    store.extend(f"gpu.{i}.mem_total_bytes", t_arr, total)
    store.extend(f"gpu.{i}.mem_used_pct", t_arr, 100.0 * used_at / np.where(total > 0, total, np.nan))


def node_diagnosis(store: MetricStore, seconds: float) -> Diagnosis:
    """perftui's verdict over the node's window (the same engine as on one host)."""
    from perftui.diagnosis.tracker import DiagnosisTracker

    return DiagnosisTracker().update(store, seconds)


def _gpu_indices(keys: Iterable[str]) -> list[str]:
    return sorted({k.split(".")[1] for k in keys if k.count(".") >= 2}, key=lambda v: (len(v), v))
