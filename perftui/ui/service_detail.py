"""The detail view's tables for the service panels (no Textual): a serving panel's percentile table
(P50…P99.9 with each quantile's bucket, against the P99 budget) and the probe's percentile table.

The panel ids are named here (`serve-<sid>`, `probe`) so the dashboard's layout and the detail view
agree on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perftui.store.metric_store import MetricStore

SERVE_PREFIX = "serve-"
PROBE_ID = "probe"


def table_lines(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as aligned columns: the first left-aligned, the rest right-aligned."""
    if not rows:
        return []
    widths = [max(len(r[c]) if c < len(r) else 0 for r in rows) for c in range(max(map(len, rows)))]
    out = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [cell.rjust(widths[c + 1]) for c, cell in enumerate(r[1:])]
        out.append("  ".join(cells).rstrip())
    return out


def service_detail(panel_id: str, store: MetricStore) -> str | None:
    """The table for a service panel's detail view; None for any other panel."""
    # the service panels' modules load once there is a service to show (not on every start)
    if panel_id == PROBE_ID:
        from perftui.ui.probe_panel import probe_detail_lines

        return "\n".join(probe_detail_lines(store))
    if not panel_id.startswith(SERVE_PREFIX):
        return None
    from perftui.ui.serving_panel import serving_detail_rows

    rows = serving_detail_rows(store, panel_id[len(SERVE_PREFIX) :])
    if len(rows) < 2:
        return (
            "latency percentiles: none yet (the server exports no latency histograms, or no request finished)"
        )
    return "\n".join(
        ["latency percentiles over the window (since start when the window is empty)", *table_lines(rows)]
    )
