"""A real Prometheus (Debian's package) scrapes two perftui exporters (one `--compat dcgm` over the
fake NVML's 8-GPU scenario, one host-only subprocess), a real node_exporter and a dcgm-exporter body
(fixture), all on 127.0.0.1; the series are read back through Prometheus's HTTP API."""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from perftui.commands.exporter import serve
from perftui.diagnosis.model import VERDICT_CLASSES
from perftui.exporter.dcgm import MIB
from perftui.fleet.prometheus_api import PrometheusApi, PrometheusError
from perftui.fleet.prometheus_rows import fetch_rows
from perftui.fleet.prometheus_source import Node, Target, discover_nodes, fetch_node, node_diagnosis
from tests.fakes.fake_nvml import make_fake_nvml
from tests.polling import wait_for

PROMETHEUS = shutil.which("prometheus")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dcgm" / "dcgm-exporter-4.2.3-4.1.3-h100x2.txt"

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None or NODE_EXPORTER is None,
    reason="needs Debian's prometheus and prometheus-node-exporter (.ci/run installs them)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Fixture(http.server.BaseHTTPRequestHandler):
    body = FIXTURE.read_bytes()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _FixtureNewLabel(_Fixture):
    """The same body as dcgm-exporter writes it after 4.5.3-4.8.2: the host label is `hostname`."""

    body = FIXTURE.read_bytes().replace(b'Hostname="gpu-node-01"', b'hostname="gpu-node-02"')


@dataclass
class Stack:
    prom_url: str = ""
    targets: dict[str, str] = field(default_factory=dict)  # job -> host:port
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=5) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return list(doc["data"]["result"])


def _start_host_exporter(stack: Stack) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perftui",
            "exporter",
            "--no-gpu",
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "0.5",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    stack.procs.append(proc)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "perftui: serving http://127.0.0.1:PORT/metrics ..."
    m = re.search(r"http://(127\.0\.0\.1:\d+)/metrics", line)
    assert m, line
    stack.targets["perftui_host"] = m.group(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp_path = tmp_path_factory.mktemp("prometheus")
    st = Stack()
    stop = threading.Event()
    ready: list[str] = []
    args = argparse.Namespace(
        listen="127.0.0.1:0", interval=0.5, compat="dcgm", web_config=None, no_gpu=False
    )
    gpu_thread = threading.Thread(
        target=serve,
        args=(args,),
        kwargs={"nvml": make_fake_nvml("8gpu", realtime=True), "stop": stop, "on_ready": ready.append},
        daemon=True,
    )
    fixture = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fixture)
    threading.Thread(target=fixture.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    fixture_new = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FixtureNewLabel)
    threading.Thread(target=fixture_new.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    try:
        gpu_thread.start()
        _start_host_exporter(st)
        assert wait_for(lambda: bool(ready), timeout=15)
        st.targets["perftui_dcgm"] = ready[0].split("//", 1)[1].split("/", 1)[0]
        st.targets["dcgm_fixture"] = f"127.0.0.1:{fixture.server_address[1]}"
        st.targets["dcgm_fixture_new"] = f"127.0.0.1:{fixture_new.server_address[1]}"
        node = f"127.0.0.1:{_free_port()}"
        st.targets["node"] = node
        assert NODE_EXPORTER is not None and PROMETHEUS is not None
        st.procs.append(
            subprocess.Popen(
                [
                    *(NODE_EXPORTER, f"--web.listen-address={node}", "--collector.disable-defaults"),
                    *("--collector.cpu", "--collector.meminfo", "--collector.loadavg", "--collector.uname"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        jobs = "".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
            for job, target in st.targets.items()
        )
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{jobs}")
        prom = f"127.0.0.1:{_free_port()}"
        st.prom_url = f"http://{prom}"
        st.procs.append(
            subprocess.Popen(
                [
                    *(PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'data'}"),
                    *(f"--web.listen-address={prom}", "--log.level=warn"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tmp_path,
            )
        )
        yield st
    finally:
        stop.set()
        for p in st.procs:
            p.terminate()
        for p in st.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        fixture.shutdown()
        fixture.server_close()
        fixture_new.shutdown()
        fixture_new.server_close()
        gpu_thread.join(10)


def _all_up(st: Stack) -> bool:
    try:
        up = st.query("up")
    except OSError:
        return False
    return {r["metric"]["job"] for r in up if r["value"][1] == "1"} == set(st.targets)


def test_prometheus_scrapes_perftui_node_exporter_and_dcgm_fixture(stack: Stack) -> None:
    assert wait_for(lambda: _all_up(stack), timeout=25, step=0.25), (
        stack.query("up") if stack.prom_url else None
    )
    # the dcgm-compatible exporter: 8 GPUs under dcgm-exporter's names and labels
    assert wait_for(lambda: len(stack.query('DCGM_FI_PROF_SM_ACTIVE{job="perftui_dcgm"}')) == 8, timeout=10)
    util = stack.query('DCGM_FI_DEV_GPU_UTIL{job="perftui_dcgm"}')
    assert sorted(int(r["metric"]["gpu"]) for r in util) == list(range(8))
    ratios = stack.query('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{job="perftui_dcgm"}')
    assert all(0.0 <= float(r["value"][1]) <= 1.0 for r in ratios)
    fb = stack.query('DCGM_FI_DEV_FB_USED{job="perftui_dcgm",gpu="7"}')
    assert len(fb) == 1 and 0 < float(fb[0]["value"][1]) < 81920  # MiB of an 80 GiB card
    # same label names as the real dcgm-exporter's body (less its driver-version label)
    ours = set(util[0]["metric"]) - {"__name__", "job", "instance"}
    theirs = set(stack.query('DCGM_FI_DEV_GPU_UTIL{job="dcgm_fixture"}')[0]["metric"])
    assert ours == theirs - {"__name__", "job", "instance", "DCGM_FI_DRIVER_VERSION"}
    # the panels of NVIDIA's dcgm-exporter Grafana dashboard (grafana.com 12239), with its
    # `instance` and `gpu` template variables
    inst = stack.targets["perftui_dcgm"]
    for metric in (
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_SM_CLOCK * 1000000",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    ):
        name, _, rest = metric.partition(" ")
        assert len(stack.query(f'{name}{{instance=~"{inst}", gpu=~".*"}} {rest}')) == 8, metric
    assert len(stack.query("group by (instance) (DCGM_FI_DEV_GPU_TEMP)")) == 3  # its instance variable
    # a dashboard query written for dcgm-exporter spans both
    by_host = stack.query("count by (Hostname) (DCGM_FI_DEV_GPU_TEMP)")
    assert sorted(int(r["value"][1]) for r in by_host) == [2, 2, 8]  # the `hostname` one: no Hostname
    # perftui's own names and the diagnosis, from both perftui exporters
    for job in ("perftui_dcgm", "perftui_host"):
        assert wait_for(lambda j=job: stack.query(f'sum(perftui_diagnosis_verdict{{job="{j}"}})'), timeout=10)
        assert stack.query(f'sum(perftui_diagnosis_verdict{{job="{job}"}})')[0]["value"][1] == "1"
        assert stack.query(f'perftui_cpu_util_ratio{{job="{job}"}}')
    assert len(stack.query('perftui_gpu_power_watts{job="perftui_dcgm"}')) == 8
    assert not stack.query('perftui_gpu_power_watts{job="perftui_host"}')
    assert stack.query('perftui_source_up{job="perftui_host",source="gpu"}') == []  # --no-gpu: no source
    # the real node_exporter
    assert stack.query('node_cpu_seconds_total{job="node",mode="idle"}')
    assert stack.query('node_memory_MemAvailable_bytes{job="node"}')


def test_fleet_source_reads_nodes_and_windows_back_for_a_verdict_per_node(stack: Stack) -> None:
    assert wait_for(lambda: _all_up(stack), timeout=25, step=0.25)
    api = PrometheusApi(stack.prom_url)
    assert wait_for(lambda: len(discover_nodes(api)) == 3, timeout=10)
    nodes = {n.name: n for n in discover_nodes(api)}
    here = socket.gethostname()
    # the two perftui exporters and node_exporter run here: one node; the fixture is another
    assert set(nodes) == {here, "gpu-node-01", "gpu-node-02"}  # `Hostname` and `hostname` both read
    assert nodes[here].kinds == {"perftui", "dcgm", "node"} and len(nodes[here].instances) == 3
    assert nodes["gpu-node-01"].kinds == {"dcgm"} and nodes["gpu-node-01"].up
    assert discover_nodes(api, '{job="dcgm_fixture"}')[0].name == "gpu-node-01"
    assert wait_for(lambda: len(stack.query("perftui_gpu_power_watts")) == 8, timeout=10)
    end = time.time()
    local = fetch_node(api, nodes[here], end - 10, end, 1.0)
    assert sorted(local.store.keys("gpu.") and {k.split(".")[1] for k in local.store.keys("gpu.")}) == [
        str(i) for i in range(8)
    ]
    assert local.store.detail("gpu.3.tier") == "gpm"
    assert local.store.detail("gpu.3.info")["name"] == "NVIDIA H100 80GB HBM3"
    power = local.store.latest("gpu.3.power_w")
    assert power is not None and power > 0
    util = local.store.latest("gpu.0.util")  # back in perftui's unit (%), not the exported ratio
    assert util is not None and util > 1.0
    assert local.store.latest("cpu.util") is not None
    diag = node_diagnosis(local.store, 10.0)
    assert diag.verdict in VERDICT_CLASSES and diag.confidence in ("high", "medium", "low")
    remote = fetch_node(api, nodes["gpu-node-01"], end - 10, end, 1.0)
    assert remote.store.latest("gpu.0.util") == 98.0
    assert remote.store.latest("gpu.0.sm_active") == pytest.approx(91.2345)
    assert remote.store.latest("gpu.0.mem_used_bytes") == 77412 * MIB
    assert remote.store.latest("gpu.0.mem_total_bytes") == (77412 + 3145) * MIB
    assert remote.store.detail("gpu.1.tier") == "gpm"
    assert any("no node_exporter" in n for n in remote.notes)
    verdict = node_diagnosis(remote.store, 10.0)
    assert verdict.verdict in VERDICT_CLASSES and verdict.verdict != "none", verdict
    # a node with node_exporter alone: host signals from PromQL rates
    bare = Node("bare", [Target("node", stack.targets["node"], True)], {"node"})

    def scraped_thrice() -> bool:  # a rate needs two samples in its range
        got = stack.query('count_over_time(node_load1{job="node"}[30s])')
        return bool(got) and float(got[0]["value"][1]) >= 3

    assert wait_for(scraped_thrice, timeout=15, step=0.25)
    end = time.time()
    host_only = fetch_node(api, bare, end - 10, end, 1.0)
    cpu = host_only.store.latest("cpu.util")
    assert cpu is not None and 0.0 <= cpu <= 100.0
    used = host_only.store.latest("mem.used_pct")
    assert used is not None and 0.0 < used < 100.0
    assert host_only.store.latest("cpu.cores") == float(os.cpu_count() or 0)
    assert not host_only.store.keys("gpu.")
    assert node_diagnosis(host_only.store, 10.0).verdict in VERDICT_CLASSES
    # the fleet's rows: a few instant queries over every node at once
    rows = fetch_rows(api, list(nodes.values()))
    gpu_util = sorted(k for k in rows[here].values if k.startswith("gpu.") and k.endswith(".util"))
    assert gpu_util == [f"gpu.{i}.util" for i in range(8)]
    assert 1.0 < rows[here].values["gpu.0.util"] <= 100.0  # perftui's unit again (%)
    assert rows[here].verdict in VERDICT_CLASSES and rows[here].confidence in ("high", "medium", "low")
    assert 0.0 <= rows[here].values["cpu.util"] <= 100.0
    for name in ("gpu-node-01", "gpu-node-02"):
        row = rows[name]
        assert row.values["gpu.0.util"] == 98.0 and row.values["gpu.1.power_w"] == 148.102
        assert row.values["gpu.0.mem_total_bytes"] == (77412 + 3145) * MIB
        assert row.values["gpu.0.sm_active"] == pytest.approx(91.2345)
        assert row.verdict is None  # dcgm-exporter publishes none: the window's engine gives it
    assert fetch_rows(api, list(nodes.values()), '{job="dcgm_fixture"}')["gpu-node-01"].values
    assert not fetch_rows(api, list(nodes.values()), '{job="dcgm_fixture"}')["gpu-node-02"].values
    # the failures a user meets, each one line
    with pytest.raises(PrometheusError, match="does not look like a Prometheus"):
        PrometheusApi(f"http://{stack.targets['node']}").query("up")
    with pytest.raises(PrometheusError, match="bad_data"):
        api.query("up{")
