"""The detail view's statistics table: window statistics that the sample count supports, in
columns that fit the width (80 columns included) without wrapping."""

from __future__ import annotations

from perftui.core.specs import REGISTRY
from perftui.core.types import WindowStats
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import PanelContent

COL = 10  # width of a value column
MAX_LABEL = 16
TAIL_SAMPLES = 2  # a percentile is quoted when at least this many samples lie above it


def min_samples(quantile: float) -> int:
    """Samples needed before the `quantile` percentile means something (P99 of 16 samples is
    just the maximum): TAIL_SAMPLES of them above it."""
    return round(TAIL_SAMPLES / (1.0 - quantile))


# (column, quantile or None, value), in the order shown; percentiles are dropped first, the
# rarest first, when the width or the sample count does not support them
COLUMNS: tuple[tuple[str, float | None], ...] = (
    ("latest", None),
    ("mean", None),
    ("P50", 0.50),
    ("P95", 0.95),
    ("P99", 0.99),
    ("P99.9", 0.999),
    ("max", None),
)


def _value(name: str, st: WindowStats) -> float:
    return {"mean": st.mean, "P50": st.p50, "P95": st.p95, "P99": st.p99, "P99.9": st.p999, "max": st.max}[
        name
    ]


def stats_table(store: MetricStore, content: PanelContent, window: float, width: int = 80) -> str:
    keys = [(r.label.strip() or r.key, r.key) for r in content.rows if r.key]
    if not keys:
        return "no metrics with history in this panel"
    stats = {key: store.stats(key, window) for _, key in keys if key}
    n = max((st.count for st in stats.values() if st is not None), default=0)
    lw = min(MAX_LABEL, max(6, *(len(label or "") for label, _ in keys)))
    shown = [(c, q) for c, q in COLUMNS if q is None or n >= min_samples(q)]
    hidden = [c for c, q in COLUMNS if q is not None and n < min_samples(q)]
    while lw + 1 + len(shown) * (COL + 1) > width and any(q is not None for _, q in shown):
        dropped = max((c for c in shown if c[1] is not None), key=lambda c: c[1] or 0.0)
        shown.remove(dropped)
    lines = [f"{'metric':<{lw}} " + " ".join(f"{c:>{COL}}" for c, _ in shown)]
    for label, key in keys:
        assert key is not None
        st = stats[key]
        cells = []
        for column, quantile in shown:
            if column == "latest":
                value = store.latest(key)
            elif st is None or (quantile is not None and st.count < min_samples(quantile)):
                value = None
            else:
                value = _value(column, st)
            cells.append(f"{REGISTRY.format(key, value):>{COL}}")
        lines.append(f"{(label or '')[:lw]:<{lw}} " + " ".join(cells))
    note = f"over the last {window:g} s ({n} samples)"
    if hidden:
        needs = ", ".join(f"{c} {min_samples(q or 0.0)}" for c, q in COLUMNS if c in hidden)
        note += f"; samples needed: {needs}"
    lines.append(note)
    return "\n".join(lines)
