"""The exporter's listener: bad --listen, address in use, privileged port, TLS and basic auth from a
node_exporter web-config file, and a scrape that answers during a hung GPU tick."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from perftui.core.types import SourceStatus
from perftui.exporter.collector import StoreCollector
from perftui.exporter.live import LiveExporter
from perftui.exporter.server import ExporterServer, ListenError, is_loopback, parse_listen
from perftui.exporter.webconfig import WebConfigError, load_web_config
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.runner import SamplerRunner
from perftui.store.metric_store import MetricStore
from tests.cli_run import perftui
from tests.exporter.helpers import samples
from tests.polling import wait_for


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:9") == ("::1", 9)
    assert parse_listen(":9464") == ("0.0.0.0", 9464)
    for bad in ("9464", "localhost", "127.0.0.1:http", "1.2.3.4:70000", "::1:80"):
        with pytest.raises(ListenError):
            parse_listen(bad)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")


def _one_line_exit_2(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perftui: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_malformed_listen_is_one_line_exit_2() -> None:
    _one_line_exit_2(perftui("exporter", "--no-gpu", "--listen", "nonsense", timeout=30), "--listen")


def test_bad_interval_and_compat_are_exit_2() -> None:
    _one_line_exit_2(perftui("exporter", "--no-gpu", "--interval", "0", timeout=30), "--interval")
    done = perftui("exporter", "--compat", "nvidia-smi", timeout=30)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_address_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = perftui("exporter", "--no-gpu", "--listen", f"127.0.0.1:{port}", timeout=30)
    _one_line_exit_2(done, "already in use", str(port))


def test_privileged_port_without_permission_is_one_line_exit_2(tmp_path: Path) -> None:
    start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    if start.exists() and int(start.read_text()) <= 80:
        pytest.skip("this kernel lets anyone bind port 80")
    cmd = [sys.executable, "-m", "perftui"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root, and no setpriv to drop it")
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    root = Path(__file__).resolve().parents[2]
    # HOME is under pytest's root-only folder: point the config lookup at a folder that does not exist
    env = {**os.environ, "PYTHONPATH": str(root), "HOME": str(tmp_path), "XDG_CONFIG_HOME": "/nonexistent"}
    os.chmod(tmp_path, 0o777)
    done = subprocess.run(
        [*cmd, "exporter", "--no-gpu", "--listen", "127.0.0.1:80"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env=env,
    )
    if "ModuleNotFoundError" in done.stderr or "PermissionError" in done.stderr:
        pytest.skip("the unprivileged user cannot read this checkout")
    _one_line_exit_2(done, "permission denied", ":80")


def test_bad_web_config_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "web.yml"
    cfg.write_text("tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n")
    _one_line_exit_2(perftui("exporter", "--no-gpu", "--web-config", str(cfg), timeout=30), "TLS")
    cfg.write_text("basic_auth_users:\n  alice: plaintext\n")
    with pytest.raises(WebConfigError, match="not a bcrypt hash"):
        load_web_config(str(cfg))
    cfg.write_text("tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")
    with pytest.raises(WebConfigError, match="not supported"):
        load_web_config(str(cfg))
    cfg.write_text("tls_config:\n  cert_file: a\n")
    with pytest.raises(WebConfigError, match="unknown field"):
        load_web_config(str(cfg))


class _Hanging(BaseSampler):
    """A GPU source whose second tick blocks (a hung NVML call) until released."""

    name = "gpu"

    def __init__(self) -> None:
        self.interval = 0.1
        self.release = threading.Event()
        self.ticks = 0

    def sample(self) -> Values:
        self.ticks += 1
        if self.ticks > 1:
            self.release.wait(30)
        return {"gpu.0.util": 42.0}


def _get(url: str, **kw: Any) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5, **kw) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def test_scrape_during_a_gpu_hang_returns_last_values_marked_stale_within_1s() -> None:
    store = MetricStore(capacity=32)
    hang = _Hanging()
    collector = StoreCollector(store, host="h", intervals={"gpu": hang.interval})
    server = ExporterServer("127.0.0.1", 0, LiveExporter.registry_for(collector))
    runner = SamplerRunner(store, [hang])
    server.start()
    runner.start()
    try:
        assert wait_for(lambda: hang.ticks >= 2, timeout=5)  # now stuck inside its second tick
        url = f"http://127.0.0.1:{server.address[1]}/metrics"
        hung_at = time.monotonic()

        def stale() -> bool:
            got = samples(_get(url)[1])
            return any(s.labels["source"] == "gpu" and s.value == 1.0 for s in got["perftui_source_stale"])

        assert wait_for(stale, timeout=5)
        assert time.monotonic() - hung_at < 1.0 + hang.interval + 0.5
        t0 = time.monotonic()
        status, body = _get(url)
        assert status == 200 and time.monotonic() - t0 < 1.0
        assert [s.value for s in samples(body)["perftui_gpu_util_ratio"]] == [0.42]
    finally:
        hang.release.set()
        runner.stop()
        server.stop()
    assert store.status("gpu") == SourceStatus.ok()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_tls_and_basic_auth_from_a_web_config_file(tmp_path: Path) -> None:
    bcrypt = pytest.importorskip("bcrypt")
    pytest.importorskip("yaml")
    crt, key = tmp_path / "c.crt", tmp_path / "c.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(crt)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    cfg = tmp_path / "web.yml"
    cfg.write_text(
        f"tls_server_config:\n  cert_file: {crt}\n  key_file: {key}\n  min_version: TLS12\n"
        f"basic_auth_users:\n  alice: '{hashed}'\n"
    )
    config = load_web_config(str(cfg))
    store = MetricStore(capacity=8)
    store.append(1.0, {"cpu.util": 25.0}, source="cpu")
    server = ExporterServer(
        "127.0.0.1",
        0,
        LiveExporter.registry_for(StoreCollector(store, host="h")),
        ssl_context=config.ssl_context(),
        auth=config.authenticator(),
    )
    server.start()
    try:
        url = server.url
        assert url.startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cafile=str(crt))
        assert _get(url, context=ctx)[0] == 401
        assert _get(url.replace("/metrics", "/"), context=ctx)[0] == 401  # every path is guarded
        for user, pw, want in (("alice", "wrong", 401), ("bob", "s3cret", 401), ("alice", "s3cret", 200)):
            req = urllib.request.Request(url)
            req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode())
            status, body = _get(req, context=ctx)  # type: ignore[arg-type]
            assert status == want, (user, pw)
        assert [s.value for s in samples(body)["perftui_cpu_util_ratio"]] == [0.25]
        with pytest.raises(OSError):  # plain HTTP to the TLS listener: refused
            urllib.request.urlopen(url.replace("https", "http"), timeout=5)
        assert _get(url, context=ctx)[0] == 401  # and it still serves afterwards
    finally:
        server.stop()


def test_the_command_serves_promtool_clean_metrics_and_stops_cleanly_on_sigterm() -> None:
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
            "0.2",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("perftui: serving http://127.0.0.1:"), line
        url = line.split()[2]
        assert wait_for(lambda: "perftui_cpu_util_ratio" in _get(url)[1], timeout=10)
        body = _get(url)[1]
        got = samples(body)
        assert {s.labels["source"] for s in got["perftui_source_up"]} >= {"cpu", "memory"}
        if shutil.which("promtool"):
            from tests.exporter.helpers import promtool_problems

            rc, out = promtool_problems(body)
            assert rc == 0, out
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
