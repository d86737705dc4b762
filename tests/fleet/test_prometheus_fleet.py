"""`perftui fleet --prometheus URL` against a real Prometheus on loopback that scrapes real perftui
exporters (one `--compat dcgm` over the fake NVML's 8 GPUs), a real node_exporter and two
dcgm-exporter bodies (fixture): the stack of tests/exporter/test_prometheus_e2e.py, reused."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from perftui.diagnosis.model import VERDICT_CLASSES
from perftui.fleet.prometheus_api import PrometheusApi
from perftui.fleet.prometheus_monitor import PrometheusMonitor
from perftui.fleet.state import STALE, UP, HostState
from perftui.ui.fleet.app import FleetApp
from perftui.ui.fleet.host_screen import HostDashboardScreen
from perftui.ui.fleet.table import FleetTable
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.exporter.test_prometheus_e2e import NODE_EXPORTER, PROMETHEUS, Stack, _all_up, stack
from tests.polling import wait_for

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None or NODE_EXPORTER is None,
    reason="needs Debian's prometheus and prometheus-node-exporter (.ci/run installs them)",
)
__all__ = ["stack"]  # the module-scoped fixture: Prometheus, the exporters, node_exporter
HERE = socket.gethostname()


def _ready(st: Stack) -> None:
    assert wait_for(lambda: _all_up(st), timeout=30, step=0.25), st.query("up") if st.prom_url else None
    assert wait_for(lambda: len(st.query("perftui_gpu_power_watts")) == 8, timeout=15, step=0.25)
    assert wait_for(lambda: st.query("sum(perftui_diagnosis_verdict)"), timeout=15, step=0.25)

    def rates() -> bool:  # node_exporter's CPU row is a rate: two samples at least
        got = st.query('count_over_time(node_load1{job="node"}[30s])')
        return bool(got) and float(got[0]["value"][1]) >= 3

    assert wait_for(rates, timeout=15, step=0.25)


def _fleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perftui", "fleet", *args],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )


def test_json_rows_and_verdicts_from_prometheus(stack: Stack) -> None:
    _ready(stack)
    done = _fleet("--prometheus", stack.prom_url, "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(rows) == {HERE, "gpu-node-01", "gpu-node-02"}
    here = rows[HERE]  # perftui's exporters, node_exporter: one node, its own verdict
    assert here["status"] == UP and here["gpu_count"] == 8 and here["gpu_model"] == "NVIDIA H100 80GB HBM3"
    assert here["verdict"] in VERDICT_CLASSES and here["confidence"] in ("high", "medium", "low")
    assert 0.0 <= here["cpu"] <= 100.0 and here["power_w"] > 0
    assert sorted(here["host_facts"]["prometheus"]["exporters"]) == ["dcgm", "node", "perftui"]
    for name in ("gpu-node-01", "gpu-node-02"):  # dcgm-exporter alone: the engine over its window
        r = rows[name]
        assert r["status"] == UP and r["gpu_count"] == 2 and r["util_max"] == 98.0
        assert r["verdict"] in VERDICT_CLASSES and r["verdict"] != "none", r
        assert "no node_exporter" in r["evidence"]
    narrowed = _fleet("--prometheus", stack.prom_url, "--json", "--selector", '{job="dcgm_fixture"}')
    assert narrowed.returncode == 0, narrowed.stderr
    assert [json.loads(line)["name"] for line in narrowed.stdout.splitlines()] == ["gpu-node-01"]


def test_bad_servers_are_one_line_and_exit_2(stack: Stack) -> None:
    _ready(stack)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    cases = [
        (("--prometheus", f"http://127.0.0.1:{closed}"), "cannot reach Prometheus"),
        (("--prometheus", f"http://{stack.targets['node']}"), "does not look like a Prometheus"),
        (("--prometheus", "not a url"), "not an http(s) URL"),
        (("--prometheus", stack.prom_url, "--selector", '{job="nothing-here"}'), "scrapes no targets"),
        (("--prometheus", stack.prom_url, "--selector", "{job="), "bad_data"),
        (("--prometheus", stack.prom_url, "somehost"), "name no HOST"),
    ]
    for args, message in cases:
        done = _fleet(*args, "--json")
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr, (args, lines)


async def _until(cond: Callable[[], object], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.1)
    return bool(cond())


async def test_fleet_screen_from_prometheus_then_the_server_goes(stack: Stack) -> None:
    _ready(stack)
    made: list[PrometheusMonitor] = []

    def factory(on_change: Callable[[HostState], None]) -> PrometheusMonitor:
        made.append(PrometheusMonitor(PrometheusApi(stack.prom_url), interval=1.0, on_change=on_change))
        return made[0]

    app = FleetApp(factory, refresh_s=0.3)
    async with app.run_test(size=(200, 50)) as pilot:
        assert await _until(lambda: len(app.rows) == 3 and all(r.verdict for r in app.rows))
        table = app.query_one(FleetTable)
        assert table.row_count == 3
        table.move_cursor(row=[r.name for r in app.rows].index(HERE))
        await pilot.press("enter")
        assert await _until(lambda: isinstance(app.screen, HostDashboardScreen))
        board = app.screen
        assert isinstance(board, HostDashboardScreen)
        assert {"cpu", "gpu-0", "gpu-7"} <= {p.id for p in board.query(MetricPanel)}
        await pilot.press("escape")
        assert await _until(lambda: app.screen.id == "fleet")
        # Prometheus goes away: the rows stay, stale, saying why
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        made[0].api = PrometheusApi(f"http://127.0.0.1:{closed}", timeout=1.0)
        assert await _until(lambda: all(st.status == STALE for st in made[0].states.values()))
        assert all("cannot reach Prometheus" in (st.error or "") for st in made[0].states.values())
        assert await _until(lambda: all(r.status == STALE for r in app.rows))
        assert "3 hosts: 0 up, 3 down" in app._summary


def test_queries_per_poll_do_not_grow_with_the_fleet_and_windows_wait(stack: Stack) -> None:
    """Rows: one batch of instant queries for every node; the engine's windows (the two
    dcgm-exporter-only nodes here) one range query for both, fetched again only when due."""
    _ready(stack)
    api = PrometheusApi(stack.prom_url)
    mon = PrometheusMonitor(api, interval=1.0, verdict_every=3600.0)
    mon.poll()
    with_windows = api.queries
    mon.poll()
    rows_only = api.queries - with_windows
    assert mon.error is None and rows_only == 16, rows_only  # up + 4 names, 9 rows, 2 GPU models
    assert with_windows == rows_only + 1  # dcgm-exporter's window of both nodes: one range query
    remote = mon.states["gpu-node-01"].verdict
    assert remote is not None and remote.verdict in VERDICT_CLASSES
    assert "refreshed every 3600 s" in remote.evidence and "no node_exporter" in remote.evidence
    mon.verdict_every = 0.0  # due again: the window is fetched on this poll
    before = api.queries
    mon.poll()
    assert api.queries - before == rows_only + 1


def test_a_long_query_goes_as_a_form_and_is_answered(stack: Stack) -> None:
    _ready(stack)
    api = PrometheusApi(stack.prom_url)
    node = stack.targets["node"]
    alts = "|".join([*(f"absent-{i}.example:9100" for i in range(400)), node])
    promql = f'up{{instance=~"{alts}"}}'
    assert len(promql) > 4000
    got = api.query(promql)
    assert [s["metric"]["instance"] for s in got] == [node]
