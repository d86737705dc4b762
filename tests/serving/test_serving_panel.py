"""The serving panel's builder over a store fed by the real sampler (exporter over HTTP)."""

from __future__ import annotations

import time

from perftui.samplers.runner import SamplerRunner
from perftui.samplers.serving_source import ServingOptions, ServingSampler
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import ViewCtx
from perftui.ui.serving_panel import serving_content, serving_detail_rows, serving_sids
from tests.serving.exporters import MetricsHTTPServer, ServerExporter


def test_panel_rows_budget_and_detail_table() -> None:
    exp = ServerExporter("vllm")
    for i in range(100):
        exp.observe(ttft=0.15 if i < 95 else 0.45, itl=0.02, e2e=1.5, queue=0.01)
    exp.set_gauge("kv_cache", 0.7)
    store = MetricStore(capacity=16)
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        runner = SamplerRunner(store, [ServingSampler(srv.url, 1.0, ServingOptions(slo="chatbot"))])
        runner.sample_once()
        for _ in range(20):
            exp.observe(ttft=0.45, itl=0.02, e2e=1.5, queue=0.01)
        runner.sample_once()
    (sid,) = serving_sids(store)
    assert serving_sids(store, models=False) == [sid]
    content = serving_content(store, ViewCtx(now=time.time(), window=60, interval=1), sid)
    labels = {r.label: r for r in content.rows}
    assert {"QPS", "gen tok/s", "P99 TTFT", "P99 ITL", "KV cache"} <= set(labels)
    assert labels["P99 TTFT"].severity == "bad"  # 0.45 s > the 200 ms chatbot budget
    assert labels["TTFT budget"].text is not None and "200 ms" in labels["TTFT budget"].text
    assert "missing: running, waiting" in " ".join(t for t, _ in content.notices)
    table = serving_detail_rows(store, sid)
    ttft = next(r for r in table if r[0] == "TTFT")
    assert ttft[3].startswith("≈") and "(0.25–0.5)" in ttft[3]  # P99 with its bucket
    assert ttft[-1] == "200 ms"
