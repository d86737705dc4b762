"""The real perftui commands against a real llama-server: snapshot/diagnose JSON, record → report, compare."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.cli_run import perftui
from tests.llm.llama_server import missing_build_tools
from tests.llm.test_llama_server import server, stream_completion

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(missing_build_tools() is not None, reason=str(missing_build_tools())),
]
__all__ = ["server"]


def _load(url: str, stop: threading.Event) -> None:
    i = 0
    while not stop.is_set():
        stream_completion(url, f"the w{i % 50} of w{i % 7}", 12)
        i += 1


def test_snapshot_json_has_serve_keys_and_the_source_status(server: tuple[str, object]) -> None:
    url, _ = server
    stop = threading.Event()
    t = threading.Thread(target=_load, args=(url, stop), daemon=True)
    t.start()
    try:
        r = perftui("snapshot", "--json", "--no-gpu", "--duration", "1", "--serve", url, "--slo", "chatbot")
    finally:
        stop.set()
        t.join(30)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    keys = [k for k in data["metrics"] if k.startswith("serve.llamacpp-")]
    gen = [k for k in keys if k.endswith(".gen_tokens_per_s")]
    assert gen and data["metrics"][gen[0]]["value"] > 0
    assert data["metrics"][gen[0]]["unit"] == "/s"
    src = [s for n, s in data["sources"].items() if n.startswith("serving:")]
    assert src and src[0]["available"]
    detail = next(v for k, v in data["details"].items() if k.startswith("serve.llamacpp-"))
    assert detail["server"] == "llamacpp" and detail["notes"]


def test_record_then_report_and_compare_show_serving(server: tuple[str, object], tmp_path: Path) -> None:
    url, _ = server
    out = []
    for name in ("a", "b"):
        stop = threading.Event()
        t = threading.Thread(target=_load, args=(url, stop), daemon=True)
        t.start()
        try:
            path = tmp_path / f"{name}.db"
            r = perftui(
                "record",
                "--no-gpu",
                "--duration",
                "2.5",
                "--interval",
                "0.5",
                "--serve",
                url,
                "-o",
                str(path),
            )
        finally:
            stop.set()
            t.join(30)
        assert r.returncode == 0, r.stderr
        assert b"serve.llamacpp-" in path.read_bytes()
        out.append(path)
    rep = perftui("report", str(out[0]), "-o", str(tmp_path / "r.md"))
    assert rep.returncode == 0, rep.stderr
    md = (tmp_path / "r.md").read_text()
    assert "## Serving" in md and "generated tokens/s" in md
    cmp = perftui("compare", str(out[0]), str(out[1]))
    assert cmp.returncode == 0, cmp.stderr
    assert "gen tok/s" in cmp.stdout or "gen_tokens_per_s" in cmp.stdout


def test_diagnose_json_has_serve_keys(server: tuple[str, object]) -> None:
    url, _ = server
    stop = threading.Event()
    t = threading.Thread(target=_load, args=(url, stop), daemon=True)
    t.start()
    try:
        r = perftui("diagnose", "--json", "--no-gpu", "--duration", "2", "--interval", "0.5", "--serve", url)
    finally:
        stop.set()
        t.join(30)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    metrics = data["serving"]["metrics"]
    assert any(k.endswith(".gen_tokens_per_s") and v for k, v in metrics.items())
    assert any(v["server"] == "llamacpp" for v in data["serving"]["servers"].values())


def test_two_servers_are_discovered_and_kept_apart(server: tuple[str, object], tmp_path: Path) -> None:
    from perftui.samplers.serving_source import ServingSampler, discover_local
    from tests.llm.llama_server import build_llama_server, running_llama_server, write_tiny_model

    url1, _ = server
    model = write_tiny_model(tmp_path / "tiny2.gguf")
    with running_llama_server(model, build_llama_server()) as (url2, _proc):
        found = discover_local()
        assert url1 + "/metrics" in found and url2 + "/metrics" in found
        assert all(u.startswith("http://127.0.0.1:") for u in found)
        sids = set()
        for u in (url1, url2):
            s = ServingSampler(u)
            s.sample()
            sids.add(s.sid)
    assert len(sids) == 2


def test_bad_serving_values_are_one_line_exit_2(tmp_path: Path) -> None:
    for args in (
        ("snapshot", "--serve", "ftp://x"),
        ("diagnose", "--serve", "127.0.0.1:8000", "--slo", "fast"),
        ("record", "--serve", "127.0.0.1:8000", "--slo-itl-p99", "-1", "-o", str(tmp_path / "x.db")),
        ("--serve", "http://a b"),  # the dashboard: refused before any UI starts
    ):
        r = perftui(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr
        assert len([line for line in r.stderr.splitlines() if line.startswith("perftui: error")]) == 1
    cfg = tmp_path / "config.toml"
    cfg.write_text('[serving]\nurls = ["127.0.0.1:1"]\nslo = "chatbot"\ncolour = 1\n')
    r = perftui("snapshot", env={"PERFTUI_CONFIG": str(cfg), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "unknown key 'colour'" in r.stderr
