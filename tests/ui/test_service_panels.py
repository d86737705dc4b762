"""Pilot tests: the serving, probe, container-limits and TFLOP/s pieces on the live dashboard, each
fed by its real source (a prometheus_client exporter over loopback HTTP, the probe against a real
aiohttp server, the cgroup sampler over fixture trees, the GPU sampler over the fake NVML)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from perftui.probe.client import Load, Target
from perftui.probe.options import Plan
from perftui.samplers.runner import SamplerRunner
from perftui.samplers.serving_source import ServingOptions, ServingSampler
from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp, create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.screens.dashboard import DashboardScreen
from perftui.ui.screens.detail import DetailScreen
from perftui.ui.widgets.header import HeaderBar
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.probe.server import Server, running_server
from tests.serving.exporters import MetricsHTTPServer, ServerExporter
from tests.ui.fakes import HOSTNAME, fill_store


def live_app(store: MetricStore, n_gpus: int = 0) -> PerftuiApp:
    """The dashboard over `store` (host history up to now, real clock, no timer: the test ticks)."""
    fill_store(store, n_gpus, t0=time.time() - 60, seconds=60)
    opts = AppOptions(hostname=HOSTNAME, theme="perftui-dark")
    return create_app(store, None, opts, TestKnobs(clock=time.time, live_timer=False, use_tracker=False))


def dash(app: PerftuiApp) -> DashboardScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, DashboardScreen)
    return screen


async def tick_until(pilot: Pilot[Any], app: PerftuiApp, cond: Callable[[], object], tries: int = 50) -> bool:
    for _ in range(tries):
        dash(app)._last_sig = None  # redraw even when no new sample landed
        dash(app).refresh_view()
        await pilot.pause()
        if cond():
            return True
    return False


def text_of(app: PerftuiApp, pid: str) -> str:
    return "\n".join(app.screen_stack[0].query_one(f"#{pid}", MetricPanel).plain_lines())


# -- serving (issue 17) ------------------------------------------------------------------------
@pytest.fixture
def vllm() -> Iterator[tuple[ServerExporter, MetricsHTTPServer]]:
    exp = ServerExporter("vllm")
    for i in range(100):
        exp.observe(ttft=0.15 if i < 95 else 0.45, itl=0.02, e2e=1.5, queue=0.01)
    exp.set_gauge("kv_cache", 0.7)
    with MetricsHTTPServer(lambda: (200, exp.body())) as srv:
        yield exp, srv


async def test_serving_panel_appears_when_serve_keys_land_and_enter_shows_the_percentiles(
    vllm: tuple[ServerExporter, MetricsHTTPServer],
) -> None:
    exp, srv = vllm
    store = MetricStore(capacity=256)
    app = live_app(store)
    runner = SamplerRunner(store, [ServingSampler(srv.url, 1.0, ServingOptions(slo="chatbot"))])
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert not [p for p in app.query(MetricPanel) if (p.id or "").startswith("serve-")]
        runner.sample_once()  # the server appears after the dashboard started, as GPUs may
        for _ in range(20):
            exp.observe(ttft=0.45, itl=0.02, e2e=1.5, queue=0.01)
        runner.sample_once()

        def serving() -> list[MetricPanel]:
            return [p for p in app.query(MetricPanel) if (p.id or "").startswith("serve-")]

        assert await tick_until(
            pilot, app, lambda: serving() and "P99 TTFT" in text_of(app, serving()[0].id or "")
        )
        (panel,) = serving()
        text = text_of(app, panel.id or "")
        for label in ("QPS", "gen tok/s", "P99 TTFT", "P99 ITL", "KV cache"):
            assert label in text
        assert "P99 < 200 ms" in text and "missing: running, waiting" in text
        assert panel.content is not None and panel.content.title.startswith("Serving vllm")
        assert "TTFT budget" in [r.label for r in panel.content.rows]
        # it shares the right-hand column with disks and network: all still there
        assert {"cpu", "memory", "disk", "net"} <= {p.id for p in app.query(MetricPanel)}
        app.set_focus(panel)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        stats = str(app.screen.query_one("#detail-stats").render())
        assert "P99 budget" in stats and "P99.9" in stats
        ttft = next(line for line in stats.splitlines() if line.startswith("TTFT"))
        assert "≈" in ttft and "(0.25–0.5)" in ttft and ttft.rstrip().endswith("200 ms")


# -- probe (issue 18) --------------------------------------------------------------------------
@pytest.fixture
def server() -> Iterator[Server]:
    with running_server() as s:
        yield s


async def test_probe_panel_runs_the_load_and_its_detail_has_the_final_table(server: Server) -> None:
    from perftui.commands.dashboard_probe import DashboardProbe

    store = MetricStore(capacity=256)
    app = live_app(store, n_gpus=1)
    plan = Plan(
        Target(f"{server.url}/delay/5"),
        (Load(rate=30, arrivals="constant", duration=1.5),),
        (),
        server.url,
    )
    probe = DashboardProbe(store, plan, interval=0.5)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        probe.start()
        try:
            assert await tick_until(
                pilot, app, lambda: bool(app.query("#probe")) and "P99 lat" in text_of(app, "probe")
            )
            text = text_of(app, "probe")
            assert "req/s" in text and "P50 lat" in text and " ms " in text
            content = app.query_one("#probe", MetricPanel).content
            assert content is not None and content.title.startswith(f"Probe · {server.url}")
            assert await tick_until(pilot, app, lambda: store.detail("probe.summary") is not None, tries=200)
        finally:
            probe.stop()
        assert server.requests >= 30
        assert {"gpu-0", "probe"} <= {p.id for p in app.query(MetricPanel)}
        app.set_focus(app.query_one("#probe", MetricPanel))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        stats = str(app.screen.query_one("#detail-stats").render())
        assert stats.startswith("final (") and "latency" in stats and "P99.9" in stats


async def test_probe_options_on_the_dashboard_line_are_probes_own() -> None:
    from perftui.cli import build_parser
    from perftui.commands.dashboard_probe import probe_plan

    args = build_parser([]).parse_args(
        ["--probe", "http://127.0.0.1:9/x", "--rate", "2,4", "--slo", "search"]
    )
    plan = probe_plan(args)
    assert [ld.rate for ld in plan.loads] == [2.0, 4.0] and plan.target.method == "GET"
    assert [b.metric for b in plan.budgets] == ["e2e"]
    assert probe_plan(build_parser([]).parse_args([])) is None
    snap = build_parser(["snapshot"]).parse_args(["snapshot"])
    assert not hasattr(snap, "rate") and not hasattr(snap, "probe")  # top-level options stay out


# -- container limits (issue 26) ---------------------------------------------------------------
async def test_cpu_panel_shows_the_attached_cgroup_limits_and_the_header_the_container(
    tmp_path: Path,
) -> None:
    from perftui.samplers.cgroup import CgroupSampler
    from tests.cgroup.fixture_tree import bump, tree

    root, mounts = tree("v2_docker", tmp_path)
    # perftui itself in the same container: /proc/self/cgroup names a docker scope
    (root / "proc" / "self").mkdir()
    shutil.copy(root / "proc" / "4242" / "cgroup", root / "proc" / "self" / "cgroup")
    sampler = CgroupSampler(1.0, pid=4242, proc_root=str(root / "proc"), mounts=mounts)
    store = MetricStore(capacity=64)
    runner = SamplerRunner(store, [sampler])
    runner.sample_once()
    d = next((root / "sys/fs/cgroup/system.slice").glob("docker-*.scope"))
    bump(d / "cpu.stat", "usage_usec", 200_000)
    bump(d / "cpu.stat", "nr_periods", 10)
    bump(d / "cpu.stat", "nr_throttled", 9)
    time.sleep(0.05)
    runner.sample_once()
    app = live_app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        assert await tick_until(pilot, app, lambda: "limits" in text_of(app, "cpu"))
        cpu = app.query_one("#cpu", MetricPanel)
        row = next(r for r in (cpu.content.rows if cpu.content else []) if r.label == "limits")
        assert row.text is not None and row.text.startswith("docker 3f2a9c1b2d4e · CPU")
        assert "of 0.2 quota, throttled 90 %" in row.text and "of 256 MiB" in row.text
        assert row.severity == "warn"  # throttled in 90 % of periods, memory at ~100 % of its limit
        header = app.query_one(HeaderBar).text
        # the container sign itself depends on the machine running the test (/.dockerenv first)
        assert "in a container (" in header and "its limits 0.2 CPU, 256 MiB" in header


# -- achieved TFLOP/s (issue 19) ---------------------------------------------------------------
def gpu_store(scenario: str) -> MetricStore:
    from perftui.samplers.gpu import GpuSampler
    from tests.fakes.fake_nvml import make_fake_nvml

    fake = make_fake_nvml(scenario, realtime=False)
    sampler = GpuSampler(1.0, fake, clock=fake.now)
    store = MetricStore(capacity=64)
    start = time.time() - 3
    for i in range(3):
        store.append(start + i, sampler.sample(), source="gpu")
        fake.advance()
    for k, v in sampler.details().items():
        store.set_detail(k, v)
    sampler.close()
    return store


async def test_gpu_panel_has_the_tflops_row_or_says_why_not() -> None:
    store = gpu_store("mixed")  # an H100 (GPM), an A100 (NVML tier), a GeForce
    tflops, util = store.latest("gpu.0.tflops"), store.latest("gpu.0.flops_util_pct")
    assert tflops is not None and util is not None
    app = live_app(store)
    async with app.run_test(size=(200, 60)) as pilot:
        assert await tick_until(
            pilot, app, lambda: bool(app.query("#gpu-1")) and "TFLOP/s" in text_of(app, "gpu-0")
        )
        gpu0 = app.query_one("#gpu-0", MetricPanel).content
        assert gpu0 is not None
        row = next(r for r in gpu0.rows if r.label == "TFLOP/s")
        assert row.key == "gpu.0.tflops" and row.value == f"≈{tflops:.0f} ({util:.0f} %)"
        assert row.hi == pytest.approx(989.4, rel=0.01)  # the sparkline's top: the H100 SXM's dense BF16 peak
        assert "TFLOP/s" in text_of(app, "gpu-0") and f"≈{tflops:.0f}" in text_of(app, "gpu-0")
        assert "TFLOP/s    needs GPM counters" in text_of(app, "gpu-1")
