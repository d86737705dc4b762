"""The probe's OpenAI streaming mode against a real loopback SSE server with known chunk timing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from perftui.probe.client import Load, Target
from perftui.probe.prompts import BodyMaker
from perftui.probe.summary import summarize
from tests.probe.helpers import probe
from tests.probe.server import Server, running_server


@pytest.fixture
def server() -> Iterator[Server]:
    with running_server() as s:
        yield s


def _target(server: Server, api: str = "completions", query: str = "", out: int = 8) -> Target:
    path = "/v1/chat/completions" if api == "chat" else "/v1/completions"
    bodies = BodyMaker("chat" if api == "chat" else "completions", input_tokens=16, output_tokens=out)
    return Target(f"{server.url}{path}?{query}", "POST", {}, None, bodies.api, bodies)


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_ttft_and_itl_come_from_content_chunks(server: Server, api: str) -> None:
    load = Load(rate=10, arrivals="constant", requests=5)
    tally, info = probe(_target(server, api, "gap_ms=20"), load)
    s = summarize(tally.results, info, load, streaming=True)
    assert s.succeeded == 5 and not s.errors
    # the first content chunk comes one 20 ms gap after the request (the chat role chunk is not content)
    assert 0.018 <= s.metrics["ttft"].pct("p50").value < 0.045
    assert s.metrics["itl"].count == 5 * 7
    assert 0.015 <= s.metrics["itl"].pct("p50").value < 0.035
    assert 0.15 <= s.metrics["e2e"].pct("p50").value < 0.3
    assert s.tokens == 40 and s.tokens_source == "usage"


def test_tokens_are_counted_chunks_without_usage(server: Server) -> None:
    load = Load(rate=20, arrivals="constant", requests=3)
    tally, info = probe(_target(server, query="gap_ms=1&usage=0", out=6), load)
    s = summarize(tally.results, info, load, streaming=True)
    assert s.tokens == 18 and s.tokens_source == "counted chunks"


def test_prompts_differ_and_skip_the_prompt_cache(server: Server) -> None:
    probe(_target(server, query="gap_ms=1"), Load(rate=20, arrivals="constant", requests=3))
    prompts = [b["prompt"] for b in server.bodies]
    assert len(set(prompts)) == 3
    assert all(
        b["cache_prompt"] is False and b["stream_options"] == {"include_usage": True} for b in server.bodies
    )
    assert len(str(prompts[0]).split()) == 16


def test_a_stream_cut_mid_way_is_disconnected(server: Server) -> None:
    load = Load(rate=10, arrivals="constant", requests=2)
    tally, info = probe(_target(server, query="gap_ms=2&mode=cut"), load)
    s = summarize(tally.results, info, load, streaming=True)
    assert s.errors == {"disconnected": 2}


def test_malformed_sse_is_a_malformed_stream(server: Server) -> None:
    load = Load(rate=10, arrivals="constant", requests=2)
    tally, info = probe(_target(server, query="gap_ms=2&mode=malformed"), load)
    s = summarize(tally.results, info, load, streaming=True)
    assert s.errors == {"malformed stream": 2}
    assert "not JSON" in s.error_examples["malformed stream"]


def test_an_oversized_sse_line_is_an_error_not_a_lost_request(server: Server) -> None:
    load = Load(rate=10, arrivals="constant", requests=2)
    tally, info = probe(_target(server, query="gap_ms=2&mode=huge"), load)
    s = summarize(tally.results, info, load, streaming=True)
    assert s.completed == 2 and s.errors == {"malformed stream": 2}, s.error_examples
    assert "LineTooLong" in s.error_examples["malformed stream"]


def test_a_404_stream_is_an_http_error(server: Server) -> None:
    bodies = BodyMaker("completions")
    target = Target(f"{server.url}/status/404", "POST", {}, None, "completions", bodies)
    load = Load(rate=10, arrivals="constant", requests=2)
    tally, info = probe(target, load)
    assert summarize(tally.results, info, load, streaming=True).errors == {"http 404": 2}


def test_prompts_file_bodies(tmp_path: object) -> None:
    from pathlib import Path

    from perftui.probe.prompts import load_prompts

    p = Path(str(tmp_path)) / "p.jsonl"
    p.write_text(
        '"hello"\n{"prompt": "a b", "max_tokens": 3}\n{"messages": [{"role": "user", "content": "hi"}]}\n'
    )
    prompts = load_prompts(p)
    chat = BodyMaker("chat", prompts=prompts)
    bodies = [json.loads(chat.next_body()) for _ in range(4)]
    assert bodies[0]["messages"] == [{"role": "user", "content": "hello"}]
    assert bodies[1]["max_tokens"] == 3
    assert bodies[2]["messages"] == [{"role": "user", "content": "hi"}]
    assert bodies[3]["messages"] == bodies[0]["messages"]  # cycles
