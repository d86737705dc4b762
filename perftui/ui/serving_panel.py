"""The serving panel's content, per inference server, read from a MetricStore (no Textual, no samplers).

`serving_sids(store)` lists the servers; `serving_content(store, ctx, sid)` gives the panel (sparklines
of QPS, tokens/s, P99 TTFT, P99 ITL, KV %, queue; the budget rows; what the server cannot tell) and
`serving_detail_rows(store, sid)` the detail view's percentile table, each quantile with its bucket.
"""

from __future__ import annotations

import re
from typing import Any

from perftui.core.slo import format_seconds
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import PanelContent, ViewCtx, metric_row, source_notices
from perftui.ui.rows import Piece, Row

_SID = re.compile(r"^serve\.([^.]+)\.")
_LAT = (("ttft", "TTFT"), ("itl", "ITL"), ("e2e", "e2e"), ("queue", "queue"))
_Q = (("p50", "P50"), ("p95", "P95"), ("p99", "P99"), ("p999", "P99.9"))


def serving_sids(store: MetricStore, *, models: bool = True) -> list[str]:
    """Ids with data: each server (`vllm-8000`) and, with `models`, its per-model ids (`vllm-8000-llama`)."""
    sids = sorted({m.group(1) for k in store.keys("serve.") if (m := _SID.match(k))})
    if models:
        return sids
    return [s for s in sids if store.detail(f"serve.{s}") is not None]


def _server_detail(store: MetricStore, sid: str) -> dict[str, Any]:
    for value in store.details("serve.").values():
        if isinstance(value, dict) and sid in (value.get("models") or {}):
            return value
    return {}


def _sources(store: MetricStore, detail: dict[str, Any]) -> list[str]:
    url = detail.get("url")
    return [f"serving:{url}"] if url else [s for s in store.statuses() if s.startswith("serving:")]


def serving_content(store: MetricStore, ctx: ViewCtx, sid: str) -> PanelContent:
    p = f"serve.{sid}."
    detail = _server_detail(store, sid)
    rows: list[Row] = []
    present = set(store.keys(p))
    for key, label in (
        ("requests_per_s", "QPS"),
        ("gen_tokens_per_s", "gen tok/s"),
        ("ttft.p99_s", "P99 TTFT"),
        ("itl.p99_s", "P99 ITL"),
        ("kv_cache_pct", "KV cache"),
        ("waiting", "queue"),
        ("running", "running"),
    ):
        if p + key in present:
            sev = ""
            if key.endswith("p99_s"):
                budget = store.latest(p + key.split(".")[0] + ".budget_s")
                v = store.latest(p + key)
                sev = "bad" if budget is not None and v is not None and v > budget else ""
            rows.append(metric_row(store, p + key, label, severity=sev))
    for lat, label in _LAT[:3]:
        budget = store.latest(f"{p}{lat}.budget_s")
        if budget is None:
            continue
        lo, hi = store.latest(f"{p}{lat}.over_budget_lo_pct"), store.latest(f"{p}{lat}.over_budget_hi_pct")
        share = f"; {lo:.1f}–{hi:.1f} % over" if lo is not None and hi is not None else ""
        rows.append(Row(label=f"{label} budget", text=f"P99 < {format_seconds(budget)}{share}"))
    for key, label in (("tokens_per_joule", "tok/J"), ("cost_per_1k_tokens", "$/1K tok")):
        if store.latest(p + key) is not None:
            rows.append(metric_row(store, p + key, label))
    notices: list[Piece] = source_notices(store, _sources(store, detail), ctx)
    notices += [(n, "dim") for n in detail.get("notes", [])]
    if detail.get("cost_basis"):  # how many GPUs the cost is for, and why
        notices.append((str(detail["cost_basis"]), "dim"))
    if detail.get("missing"):
        notices.append((f"missing: {', '.join(detail['missing'])}", "warn"))
    title = f"Serving {sid}"
    sub = str(detail.get("generation") or "")
    return PanelContent(title, rows, notices, subtitle=sub)


def serving_detail_rows(store: MetricStore, sid: str) -> list[tuple[str, ...]]:
    """The detail view's table: latency, P50…P99.9 over the window ("≈0.41 s (0.25–0.5)"), budget."""
    detail = _server_detail(store, sid).get("models", {}).get(sid, {})
    window = detail.get("quantiles", {})
    out: list[tuple[str, ...]] = [("latency", *(q for _, q in _Q), "P99 budget")]
    for lat, label in _LAT:
        qs = window.get(lat) or detail.get("since_start", {}).get(lat)
        if not qs:
            continue
        budget = store.latest(f"serve.{sid}.{lat}.budget_s")
        cells = tuple(str(qs[q]["text"]) if q in qs else "—" for q, _ in _Q)
        out.append((label, *cells, format_seconds(budget) if budget is not None else "—"))
    return out
