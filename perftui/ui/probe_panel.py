"""The probe panel's content, read from the store (`probe.*` keys and details): no Textual.

The compact panel: requests/s, errors/s, P50/P99 latency (plain HTTP) or TTFT and inter-token
P99 (OpenAI streams), tokens/s and requests in flight, as sparklines. Its detail view: the
percentile table of the whole run so far (`probe.table`) or, once finished, the final one with
bootstrap intervals (`probe.summary`).
"""

from __future__ import annotations

from typing import Any

from perftui.core.slo import format_seconds
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import PanelContent, ViewCtx, metric_row, source_notices
from perftui.ui.rows import Row

PCT_LABELS = (("p50", "P50"), ("p95", "P95"), ("p99", "P99"), ("p999", "P99.9"))
METRICS = ("latency", "ttft", "itl", "e2e")
# labels that fit the panel's 10-cell label column (the specs' own are longer: "latency P99")
LABELS = {
    "probe.latency.p50_s": "P50 lat",
    "probe.latency.p99_s": "P99 lat",
    "probe.ttft.p50_s": "P50 TTFT",
    "probe.ttft.p99_s": "P99 TTFT",
    "probe.itl.p99_s": "P99 ITL",
    "probe.tokens_per_s": "tok/s",
}


def _streaming(store: MetricStore) -> bool:
    return any(k.startswith(("probe.ttft.", "probe.itl.")) for k in store.keys("probe."))


def probe_content(store: MetricStore, ctx: ViewCtx) -> PanelContent:
    rows: list[Row] = []
    target: Any = store.detail("probe.target")
    title = "Probe"
    if isinstance(target, dict) and target.get("url"):
        title = f"Probe · {target['url']} · {target.get('load', '')}".rstrip(" ·")
    keys = ["probe.requests_per_s", "probe.errors_per_s"]
    if _streaming(store):
        keys += ["probe.ttft.p50_s", "probe.ttft.p99_s", "probe.itl.p99_s", "probe.tokens_per_s"]
    else:
        keys += ["probe.latency.p50_s", "probe.latency.p99_s"]
    keys.append("probe.in_flight")
    for key in keys:
        if key in store:
            err = key == "probe.errors_per_s" and (store.latest(key) or 0.0) > 0
            rows.append(metric_row(store, key, LABELS.get(key, ""), severity="bad" if err else ""))
    notices = source_notices(store, ["probe"], ctx)
    if not rows and not notices:
        notices.append(("probe: waiting for the first requests to complete", "dim"))
    return PanelContent(title, rows, notices)


def probe_detail_lines(store: MetricStore) -> list[str]:
    """The percentile table: final (with 95 % intervals) when the run is over, else running."""
    summary: Any = store.detail("probe.summary")
    header = f"{'metric':<8}" + "".join(f"{label:>22}" for _, label in PCT_LABELS) + f"{'max':>10}"
    if isinstance(summary, dict) and isinstance(summary.get("metrics"), dict):
        lines = [f"final ({summary.get('completed', 0):,} requests, 95 % bootstrap intervals)", header]
        for name in METRICS:
            m = summary["metrics"].get(name)
            if not isinstance(m, dict):
                continue
            cells = []
            for p, _ in PCT_LABELS:
                c = m.get(p, {})
                star = "" if c.get("enough_samples", True) else "*"
                cells.append(
                    f"{format_seconds(c['value'])} ({format_seconds(c['ci_low'])}–"
                    f"{format_seconds(c['ci_high'])}){star}"
                )
            lines.append(
                f"{name:<8}" + "".join(f"{c:>22}" for c in cells) + f"{format_seconds(m['max']):>10}"
            )
        return lines
    table: Any = store.detail("probe.table")
    if not isinstance(table, dict) or not table:
        return ["no requests completed yet"]
    lines = ["running (every request so far)", header]
    for name in METRICS:
        m = table.get(name)
        if isinstance(m, dict):
            cells = [format_seconds(m[p]) for p, _ in PCT_LABELS]
            lines.append(
                f"{name:<8}" + "".join(f"{c:>22}" for c in cells) + f"{format_seconds(m['max']):>10}"
            )
    return lines
