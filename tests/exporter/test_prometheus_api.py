"""The Prometheus API client's failures, each one line: unreachable, a query that times out, refused
credentials, not a Prometheus; and the selector / instance helpers of the fleet source."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from perftui.exporter.collector import StoreCollector
from perftui.exporter.live import LiveExporter
from perftui.exporter.server import ExporterServer
from perftui.fleet.prometheus_api import PrometheusApi, PrometheusError, authorization, sample_value
from perftui.fleet.prometheus_source import instance_host, perftui_key, with_selector
from perftui.store.metric_store import MetricStore


def test_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(PrometheusError, match=r"cannot reach Prometheus at .*refused"):
        PrometheusApi(f"http://127.0.0.1:{port}").query("up")


def test_a_query_that_times_out() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()  # accepts into the backlog, never answers
        api = PrometheusApi(f"http://127.0.0.1:{s.getsockname()[1]}", timeout=0.3)
        with pytest.raises(PrometheusError, match=r"did not answer within 0\.3 s"):
            api.query("up")


def test_refused_credentials_and_not_a_prometheus() -> None:
    pytest.importorskip("bcrypt")
    import bcrypt

    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    from perftui.exporter.webconfig import WebConfig

    auth = WebConfig(users={"u": hashed}).authenticator()
    server = ExporterServer(
        "127.0.0.1", 0, LiveExporter.registry_for(StoreCollector(MetricStore(8), host="h")), auth=auth
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{server.address[1]}"
        with pytest.raises(PrometheusError, match=r"refused the credentials \(HTTP 401\)"):
            PrometheusApi(base, auth="Basic " + base64.b64encode(b"u:wrong").decode()).query("up")
        with pytest.raises(PrometheusError, match="does not look like a Prometheus"):
            PrometheusApi(base, auth="Basic " + base64.b64encode(b"u:pw").decode()).query("up")
    finally:
        server.stop()


def test_urls_and_credentials_never_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PrometheusError, match="not an http"):
        PrometheusApi("localhost:9090")
    with pytest.raises(PrometheusError, match="not in the URL"):
        PrometheusApi("http://u:p@localhost:9090")
    token = tmp_path / "token"
    token.write_text("abc\n")
    assert authorization(bearer_file=str(token)) == "Bearer abc"
    pair = tmp_path / "basic"
    pair.write_text("u:p\n")
    assert authorization(basic_file=str(pair)) == "Basic " + base64.b64encode(b"u:p").decode()
    monkeypatch.setenv("PROM_TOKEN", "xyz")
    assert authorization(bearer_env="PROM_TOKEN") == "Bearer xyz"
    monkeypatch.delenv("PROM_TOKEN")
    with pytest.raises(PrometheusError, match="PROM_TOKEN"):
        authorization(bearer_env="PROM_TOKEN")
    assert authorization() is None


def test_helpers() -> None:
    assert with_selector("up") == "up"
    assert with_selector("up", '{job="gpu"}') == 'up{job="gpu"}'
    assert with_selector("up", 'job="gpu"', 'instance="a"') == 'up{job="gpu",instance="a"}'
    assert instance_host("node1:9100") == "node1"
    assert instance_host("[::1]:9100") == "::1"
    assert sample_value("NaN") != sample_value("NaN") and sample_value("+Inf") == float("inf")
    assert perftui_key({"__name__": "perftui_gpu_util_ratio", "gpu": "3"}) == ("gpu.3.util", 0.01)
    assert perftui_key({"__name__": "perftui_disk_read_bytes_per_second", "device": "sda"}) == (
        "disk.sda.read_bytes_per_s",
        1.0,
    )
    assert perftui_key({"__name__": "perftui_cpu_util_ratio"}) == ("cpu.util", 0.01)
    assert perftui_key({"__name__": "perftui_source_up"}) is None
