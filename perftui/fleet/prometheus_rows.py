"""The fleet's per-node rows from a few instant queries over all nodes at once (not one query per
node: a 100-node fleet refreshed every 5 s costs the same handful of requests as a 2-node one).

Each row holds perftui keys (GPU `gpu.<i>.…`, `cpu.util`, `mem.used_pct`) whichever exporter sent
them — perftui's own first, then dcgm-exporter's, then node_exporter's — and the verdict and its
confidence where a perftui exporter publishes them. The full window for the engine's own verdict
is `prometheus_source.fetch_node`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perftui.fleet.prometheus_api import PrometheusApi, sample_value
from perftui.fleet.prometheus_source import Node, perftui_key, with_selector

PERFTUI_ROW_METRICS: tuple[str, ...] = (
    "perftui_gpu_util_ratio",
    "perftui_gpu_power_watts",
    "perftui_gpu_mem_used_bytes",
    "perftui_gpu_mem_total_bytes",
    "perftui_gpu_sm_active_ratio",
    "perftui_cpu_util_ratio",
    "perftui_mem_used_ratio",
)


def row_queries(selector: str = "") -> list[tuple[str, str | None]]:
    """(PromQL over all nodes, the perftui key it gives with `{gpu}` from the series' label; None:
    a perftui-exporter series, which names its own key)."""

    def m(name: str, extra: str = "") -> str:
        return with_selector(name, selector, extra)

    idle = m("node_cpu_seconds_total", 'mode="idle"')
    return [
        (with_selector("", selector, f'__name__=~"{"|".join(PERFTUI_ROW_METRICS)}"'), None),
        (m("DCGM_FI_DEV_GPU_UTIL"), "gpu.{gpu}.util"),
        (m("DCGM_FI_DEV_POWER_USAGE"), "gpu.{gpu}.power_w"),
        (f"{m('DCGM_FI_DEV_FB_USED')} * 1048576", "gpu.{gpu}.mem_used_bytes"),
        # vector arithmetic matches the two series on every label but the name: one GPU each
        (f"({m('DCGM_FI_DEV_FB_USED')} + {m('DCGM_FI_DEV_FB_FREE')}) * 1048576", "gpu.{gpu}.mem_total_bytes"),
        (f"{m('DCGM_FI_PROF_SM_ACTIVE')} * 100", "gpu.{gpu}.sm_active"),
        (f"100 * (1 - avg by (instance) (rate({idle}[1m])))", "cpu.util"),
        (
            f"100 * (1 - {m('node_memory_MemAvailable_bytes')} / {m('node_memory_MemTotal_bytes')})",
            "mem.used_pct",
        ),
    ]


@dataclass
class NodeRow:
    values: dict[str, float] = field(default_factory=dict)
    verdict: str | None = None  # from a perftui exporter's `perftui_diagnosis_verdict`
    confidence: str | None = None


def fetch_rows(api: PrometheusApi, nodes: list[Node], selector: str = "") -> dict[str, NodeRow]:
    """node name -> its row, from the same few instant queries whatever the fleet's size (in
    parallel, `api.parallel` at once)."""
    by_instance = {inst: n.name for n in nodes for inst in n.instances}
    rows = {n.name: NodeRow() for n in nodes}
    queries = row_queries(selector)
    # the verdict and its confidence in one query, told apart by their labels
    verdicts = with_selector(
        "", selector, '__name__=~"perftui_diagnosis_verdict|perftui_diagnosis_confidence"'
    )
    *got, published = api.query_all([q for q, _ in queries] + [f"{verdicts} == 1"])
    for (_, template), series in zip(queries, got, strict=True):
        for s in series:
            labels = s["metric"]
            node = by_instance.get(labels.get("instance", ""))
            if node is None:
                continue
            value = sample_value(s["value"][1])
            if template is None:
                hit = perftui_key(labels)
                if hit is None:
                    continue
                key, value = hit[0], value / hit[1]
            else:
                key = template.format(gpu=labels.get("gpu", ""))
            rows[node].values.setdefault(key, value)  # perftui's first, then the others
    for s in published:
        node = by_instance.get(s["metric"].get("instance", ""))
        for attr in ("verdict", "confidence"):
            if node is not None and s["metric"].get(attr):
                setattr(rows[node], attr, s["metric"][attr])
    return rows
