"""The probe as a source: its own thread feeds probe.* values into a MetricStore; the panel reads them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from perftui.probe.client import Load, Target
from perftui.probe.live import ProbeSource
from perftui.probe.prompts import BodyMaker
from perftui.probe.summary import summarize
from perftui.store.metric_store import MetricStore
from perftui.ui.panels import ViewCtx
from perftui.ui.probe_panel import probe_content, probe_detail_lines
from tests.polling import wait_for
from tests.probe.server import Server, running_server


@pytest.fixture
def server() -> Iterator[Server]:
    with running_server() as s:
        yield s


def test_source_publishes_per_second_values_and_the_panel_shows_them(server: Server) -> None:
    store = MetricStore()
    src = ProbeSource(
        store, Target(f"{server.url}/delay/5"), Load(rate=40, arrivals="constant", duration=1.6)
    )
    src.start()
    assert src.wait(10) and src.error is None
    src.stop()
    rps = store.series("probe.requests_per_s")[1]
    assert rps.size >= 2 and 30 <= float(rps[0]) <= 50  # one tick a second, ~40 requests in each
    p99 = store.latest("probe.latency.p99_s")
    assert p99 is not None and 0.005 <= p99 < 0.1
    assert store.latest("probe.errors_per_s") == 0.0
    ctx = ViewCtx(now=time.time(), window=60, interval=1)
    content = probe_content(store, ctx)
    assert content.title.startswith(f"Probe · {server.url}/delay/5 · 40 req/s")
    assert [r.key for r in content.rows][:4] == [
        "probe.requests_per_s", "probe.errors_per_s", "probe.latency.p50_s", "probe.latency.p99_s",
    ]  # fmt: skip
    assert "running" in probe_detail_lines(store)[0]
    s = summarize(src.tally.results, src.info, src.load, streaming=False)
    src.set_summary(s.as_dict())
    lines = probe_detail_lines(store)
    assert lines[0].startswith("final (64 requests") and lines[2].startswith("latency")


def test_streaming_panel_rows_and_early_stop(server: Server) -> None:
    store = MetricStore()
    bodies = BodyMaker("completions", output_tokens=4)
    target = Target(f"{server.url}/v1/completions?gap_ms=2", "POST", {}, None, "completions", bodies)
    src = ProbeSource(store, target, Load(rate=20, arrivals="constant", duration=30), interval=0.3)
    t0 = time.monotonic()
    src.start()
    assert wait_for(lambda: "probe.ttft.p99_s" in store, timeout=10)
    src.stop()
    assert src.finished and time.monotonic() - t0 < 5
    assert src.info.stopped == "interrupted"
    keys = [r.key for r in probe_content(store, ViewCtx(time.time(), 60, 1)).rows]
    assert "probe.ttft.p99_s" in keys and "probe.tokens_per_s" in keys and "probe.latency.p99_s" not in keys
    assert (store.latest("probe.tokens_per_s") or 0) > 0


def test_panel_before_any_request() -> None:
    content = probe_content(MetricStore(), ViewCtx(time.time(), 60, 1))
    assert content.rows == [] and "waiting" in content.notices[0][0]
    assert probe_detail_lines(MetricStore()) == ["no requests completed yet"]


def test_the_dashboard_wiring_in_miniature(server: Server) -> None:
    """What `perftui --probe URL [probe options]` does: the same options, a plan, a source, the panel."""
    import argparse

    from perftui.commands.probe import add_load_arguments
    from perftui.probe.options import build_plan

    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", metavar="URL")
    add_load_arguments(parser)
    args = parser.parse_args(["--probe", f"{server.url}/delay/1", "--rate", "30", "--duration", "1.2"])
    args.url = args.probe
    plan = build_plan(args)
    store = MetricStore()
    src = ProbeSource(store, plan.target, plan.loads[0])
    src.start()
    assert src.wait(10)
    src.stop()
    content = probe_content(store, ViewCtx(time.time(), 60, 1))
    assert content.title.endswith("30 req/s") and content.rows and not content.notices
