"""A real llama.cpp llama-server (built once, tiny generated model): the serving source reads it."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from perftui.samplers.serving_source import ServingOptions, ServingSampler, discover_local
from tests.llm.llama_server import missing_build_tools
from tests.polling import wait_for

pytestmark = pytest.mark.skipif(missing_build_tools() is not None, reason=str(missing_build_tools()))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.llm.llama_server import build_llama_server, running_llama_server, write_tiny_model

    binary = build_llama_server()
    model = write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.gguf")
    assert model.stat().st_size < 1_000_000
    with running_llama_server(model, binary) as (url, proc):
        yield url, proc


def stream_completion(url: str, prompt: str, n: int = 16) -> int:
    """POST a streaming completion; the number of SSE data chunks with text."""
    body = json.dumps({"prompt": prompt, "max_tokens": n, "stream": True, "cache_prompt": False}).encode()
    req = urllib.request.Request(url + "/v1/completions", body, {"Content-Type": "application/json"})
    chunks = 0
    with urllib.request.urlopen(req, timeout=30) as resp:
        for raw in resp:
            line = raw.decode().strip()
            if line.startswith("data: ") and line != "data: [DONE]":
                data = json.loads(line[6:])
                if data.get("choices") and data["choices"][0].get("text"):
                    chunks += 1
    return chunks


def test_serve_url_reads_llamacpp_counters_and_says_what_it_lacks(server: tuple[str, object]) -> None:
    url, _ = server
    s = ServingSampler(url, 1.0, ServingOptions(slo="chatbot"))
    s.sample()
    for i in range(3):
        assert stream_completion(url, f"the w{i} of a w{i + 3} is", 16) > 0
    v = s.sample()
    sid = s.sid
    assert sid is not None and sid.startswith("llamacpp-")
    rate = v.get(f"serve.{sid}.gen_tokens_per_s")
    assert rate is not None and rate > 0
    assert v.get(f"serve.{sid}.prompt_tokens_per_s") is not None
    assert f"serve.{sid}.running" in v
    assert not any(".ttft." in k or ".itl." in k for k in v if not k.endswith("budget_s"))
    d = s.details()[f"serve.{sid}"]
    assert d["server"] == "llamacpp"
    assert any("no latency histograms" in n for n in d["notes"])


def test_discovery_finds_it_on_loopback(server: tuple[str, object]) -> None:
    url, _ = server
    assert wait_for(lambda: url + "/metrics" in discover_local(), timeout=5.0)


def test_a_server_that_exits_goes_stale_with_the_reason(tmp_path: Path) -> None:
    from tests.llm.llama_server import build_llama_server, running_llama_server, write_tiny_model

    model = write_tiny_model(tmp_path / "tiny.gguf")
    with running_llama_server(model, build_llama_server()) as (url, proc):
        s = ServingSampler(url, 1.0)
        s.sample()
        proc.terminate()
        proc.wait(10)
    with pytest.raises(RuntimeError, match="unreachable"):
        s.sample()
