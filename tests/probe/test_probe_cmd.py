"""The real `perftui probe` command: bad input sends nothing; Ctrl-C prints and records what was
measured; --record writes probe.* series beside the hardware; headers never reach the recording."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.store.reader import open_recording
from tests.cli_run import perftui
from tests.polling import wait_for
from tests.probe.server import Server, running_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[Server]:
    with running_server() as s:
        yield s


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["not a url"], "not an http(s) URL"),
        (["ftp://127.0.0.1/"], "not an http(s) URL"),
        (["http://127.0.0.1:99999/"], "bad port"),
        (["{url}/delay/1", "--rate", "0"], "--rate: must be more than 0"),
        (["{url}/delay/1", "--rate", "-3"], "--rate: must be more than 0"),
        (["{url}/delay/1", "--rate", "5", "--concurrency", "2"], "not both"),
        (["{url}/delay/1", "--rate", "5000"], "over --max-rate"),
        (["{url}/echo", "--body", "/nonexistent/body.json"], "cannot read body file"),
        (["{url}/v1/completions", "--openai", "--prompts", "/nonexistent/p.jsonl"], "cannot read prompts"),
        (["{url}/echo", "--header-file", "/nonexistent/h"], "cannot read header file"),
        (["{url}/echo", "-H", "no colon"], "Name: value"),
        (["{url}/delay/1", "--slo", "nope"], "unknown --slo"),
        (["{url}/delay/1", "--slo-ttft-p99", "100ms"], "need --openai"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_sent(server: Server, args: list[str], says: str) -> None:
    r = perftui("probe", *[a.format(url=server.url) for a in args], "--requests", "3", timeout=30)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert server.requests == 0


def test_json_output_and_goodput(server: Server) -> None:
    r = perftui(
        "probe", f"{server.url}/delay/1", "--rate", "50", "--arrivals", "constant", "--requests", "20",
        "--slo", "search", "--json", timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    step = out["steps"][0]
    assert step["completed"] == 20 and step["errors"] == {}
    assert step["budgets"][0]["metric"] == "e2e" and step["good"] == 20
    assert set(step["metrics"]["latency"]) >= {"p50", "p99", "p999", "mean", "max", "count"}
    assert step["metrics"]["latency"]["p99"]["ci_low"] <= step["metrics"]["latency"]["p99"]["value"]


def test_every_request_failing_exits_1(server: Server) -> None:
    r = perftui("probe", f"{server.url}/status/503", "--requests", "3", "--rate", "20")
    assert r.returncode == 1
    assert "errors: http 503 ×3" in r.stdout and "no request succeeded" in r.stderr


def test_sweep_prints_the_knee(server: Server) -> None:
    r = perftui(
        "probe", f"{server.url}/delay/2", "--rate", "10,20", "--requests", "10", "--slo-e2e-p99", "1s",
        timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "latency vs throughput" in r.stdout and "◀ knee" in r.stdout
    assert "knee: 20 req/s" in r.stdout


def test_ctrl_c_prints_and_records_what_was_measured(server: Server, tmp_path: Path) -> None:
    rec = tmp_path / "probe.sqlite"
    secret = tmp_path / "headers"
    secret.write_text("Authorization: Bearer hunter2-secret\n")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "perftui", "probe", f"{server.url}/delay/5", "--rate", "20",
            "--duration", "60", "--record", str(rec), "--no-gpu", "--interval", "0.5",
            "--header-file", str(secret), "-H", "X-Api-Key: also-secret",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert wait_for(lambda: server.requests >= 30, timeout=30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopped early (interrupted)" in out and "P50" in out
    assert f"recorded the probe and the hardware to {rec}" in out
    recording = open_recording(rec)
    assert any(k.startswith("cpu.") for k in recording.series)  # the hardware sources
    assert "probe.requests_per_s" in recording.series and "probe.latency.p99_s" in recording.series
    assert recording.timeline  # the live diagnosis, as `perftui record` writes it
    meta = recording.meta["probe"]
    assert meta["interrupted"] is True and meta["steps"][0]["completed"] >= 30
    assert meta["steps"][0]["metrics"]["latency"]["p99"]["value"] >= 0.005
    raw = rec.read_bytes()
    assert b"hunter2-secret" not in raw and b"also-secret" not in raw
    assert server.headers == [] and server.requests >= 30
    report = perftui("report", str(rec), "--no-diagnosis", timeout=60)
    assert report.returncode == 0, report.stderr
    assert "## Probe (client-side latency" in report.stdout and "P99 (95% CI)" in report.stdout
    assert "interrupted" in report.stdout and "probe.latency.p99_s" in report.stdout
    assert "hunter2" not in report.stdout and "also-secret" not in report.stdout
    cmp = perftui("compare", str(rec), str(rec), timeout=60)
    assert cmp.returncode == 0, cmp.stderr
    assert "probe.latency.p99_s" in cmp.stdout


def test_headers_reach_the_server(server: Server, tmp_path: Path) -> None:
    body = tmp_path / "b.json"
    body.write_text('{"x": 1}')
    hdr = tmp_path / "h"
    hdr.write_text("# credentials\nAuthorization: Bearer tok\n")
    r = perftui(
        "probe", f"{server.url}/echo", "--body", str(body), "--header-file", str(hdr), "--requests", "2"
    )
    assert r.returncode == 0, r.stderr
    assert server.bodies == [{"raw": '{"x": 1}'}] * 2
    assert server.headers[0]["Authorization"] == "Bearer tok"
    assert server.headers[0]["Content-Type"] == "application/json"
    assert "tok" not in r.stdout


def test_progress_line_on_a_terminal(server: Server) -> None:
    import pty

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "perftui", "probe", f"{server.url}/delay/1", "--rate", "20",
         "--duration", "1.5"],
        stdout=subprocess.PIPE, stderr=child_fd, stdin=subprocess.DEVNULL, text=True, cwd=ROOT,
    )  # fmt: skip
    os.close(child_fd)
    seen = b""
    try:
        while b"P99 latency" not in seen:
            chunk = os.read(main_fd, 4096)
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=30)
    finally:
        os.close(main_fd)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert b"probe 20 req/s: sent " in seen and b"errors 0" in seen and b"P99 latency" in seen
    assert "P50 (95% CI)" in out and "\x1b" not in out  # the table goes to stdout, the line to the terminal


@pytest.mark.parametrize(
    ("path", "extra", "api_path"),
    [
        ("", [], "/v1/completions"),
        ("/v1", ["--chat"], "/v1/chat/completions"),
        ("/v1/chat/completions", [], "/v1/chat/completions"),
    ],
)
def test_openai_endpoint_from_the_url(server: Server, path: str, extra: list[str], api_path: str) -> None:
    r = perftui(
        "probe",
        "--openai",
        *extra,
        f"{server.url}{path}",
        "--requests",
        "2",
        "--output-tokens",
        "3",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["target"].endswith(api_path)
    assert out["steps"][0]["tokens"] == 6 and out["steps"][0]["tokens_source"] == "usage"
    chat = api_path.endswith("chat/completions")
    assert all(("messages" in b) == chat for b in server.bodies)


def test_without_aiohttp_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "aiohttp.py").write_text("raise ImportError('hidden for the test')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    r = perftui("probe", "http://127.0.0.1:9/", "--requests", "1", env=env)
    assert r.returncode == 2
    assert r.stderr.strip() == "perftui: error: the probe needs aiohttp: pip install 'perftui[probe]'"
