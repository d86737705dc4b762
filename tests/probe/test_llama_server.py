"""The probe against a real OpenAI-compatible server: llama.cpp's `llama-server` with a tiny generated
model on loopback (built once and cached by tests/llm/llama_server.py).

TTFT and inter-token gaps come from its chunks; the usage it reports agrees with the chunks counted;
and its own `/metrics` counters agree with what the probe sent."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from perftui.probe.client import Load, Target
from perftui.probe.prompts import Api, BodyMaker
from perftui.probe.summary import summarize
from tests.llm.llama_server import missing_build_tools, running_llama_server, write_tiny_model
from tests.probe.helpers import probe

pytest.importorskip("gguf", reason="the tiny model is written with the gguf package (the test extra)")
OUT_TOKENS = 12
REQUESTS = 6


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    why = missing_build_tools()
    if why is not None:
        pytest.skip(why)
    model = write_tiny_model(Path(tmp_path_factory.mktemp("llm")) / "tiny.gguf")
    with running_llama_server(model) as (url, _proc):
        yield url


def _metrics(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_stream_timing_usage_and_server_counters_agree(llama: str, api: Api) -> None:
    before = _metrics(llama)
    bodies = BodyMaker(api, input_tokens=24, output_tokens=OUT_TOKENS)
    path = "/v1/chat/completions" if api == "chat" else "/v1/completions"
    load = Load(rate=4, arrivals="constant", requests=REQUESTS, timeout=60)
    tally, info = probe(Target(llama + path, "POST", {}, None, api, bodies), load)
    s = summarize(tally.results, info, load, streaming=True)
    assert s.succeeded == REQUESTS, (s.errors, s.error_examples)
    # usage is what the server says (a chat reply may end before max_tokens at a stop string). The
    # content chunks counted match it one token a chunk, except that a stream may hold a token back
    # while it could still start a stop string and send it with the next: fewer chunks, never more
    # (which is why the probe prefers usage).
    assert s.tokens_source == "usage"
    chunks = [len(r.gaps) + 1 for r in tally.results]
    for r, n in zip(tally.results, chunks, strict=True):
        assert r.tokens_from_usage and r.ttft is not None and 0 < r.ttft < r.latency
        assert 1 <= r.tokens <= OUT_TOKENS and r.tokens - 3 <= n <= r.tokens
    assert s.tokens >= REQUESTS * OUT_TOKENS // 2
    ttft, itl, e2e = s.metrics["ttft"], s.metrics["itl"], s.metrics["e2e"]
    assert itl.count == sum(chunks) - REQUESTS
    assert 0 < ttft.pct("p50").value < e2e.pct("p50").value < 10
    assert 0 < itl.pct("p50").value < e2e.pct("p50").value
    after = _metrics(llama)
    predicted = after["llamacpp:tokens_predicted_total"] - before.get("llamacpp:tokens_predicted_total", 0)
    assert predicted == s.tokens  # the server generated exactly what the probe's usage says
    prompt = after["llamacpp:prompt_tokens_total"] - before.get("llamacpp:prompt_tokens_total", 0)
    assert prompt >= REQUESTS * 24  # every prompt was evaluated: cache_prompt false, prompts differ
    assert after["llamacpp:requests_processing"] == 0 and after["llamacpp:requests_deferred"] == 0
