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
