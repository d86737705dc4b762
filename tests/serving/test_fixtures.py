"""Each server generation's /metrics body (tests/fixtures/serving, the version in each file's first line).

Only the llama.cpp body is captured from the real server; the vLLM, SGLang, TGI and Triton bodies are
hand-built after each server's source and docs (named in tests/fixtures/serving/README.md), with
placeholder HELP text: they pin the metric names of a generation, not a server's exact output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perftui.samplers.serving.parse import generation, parse_body, readings
from perftui.samplers.serving.profiles import detect, wanted_prefixes
from perftui.samplers.serving_source import ServingOptions, ServingSampler
from tests.serving.exporters import MetricsHTTPServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "serving"

CASES = [
    # file, server, generation contains, perftui names it must read
    ("vllm_0.11.txt", "vllm", "0.11", {"ttft", "itl", "e2e", "queue", "requests", "gen_tokens", "kv_cache"}),
    ("vllm_0.8.txt", "vllm", "< 0.9", {"ttft", "itl", "e2e", "kv_cache", "requests"}),
    ("sglang_0.4.txt", "sglang", "sglang:", {"ttft", "itl", "e2e", "queue", "requests", "kv_cache"}),
    ("sglang_legacy_underscore.txt", "sglang", "sglang_", {"ttft", "itl", "e2e", "queue", "requests"}),
    ("tgi_3.x.txt", "tgi", "TGI", {"itl", "e2e", "queue", "requests", "running", "waiting"}),
    ("triton_2.x.txt", "triton", "Triton", {"ttft", "e2e", "queue", "requests", "errors", "waiting"}),
    ("triton_trtllm_24.x.txt", "triton", "TensorRT-LLM", {"e2e", "queue", "requests", "errors", "kv_cache"}),
    ("llamacpp_0.3.36.txt", "llamacpp", "llama.cpp", {"prompt_tokens", "gen_tokens", "running", "waiting"}),
]


@pytest.mark.parametrize(("name", "server", "gen", "names"), CASES)
def test_each_generation_is_recognised_and_read(name: str, server: str, gen: str, names: set[str]) -> None:
    body = (FIXTURES / name).read_text()
    everything = parse_body(body, wanted_prefixes(None))
    profile = detect(everything.samples)
    assert profile is not None and profile.server == server
    scrape = parse_body(body, wanted_prefixes(profile))
    assert gen in generation(profile, scrape)
    total = readings(profile, scrape)[None]
    have = {*total.counters, *total.gauges, *total.hists, *total.means}
    assert names <= have, names - have


def test_vllm_prefers_the_new_itl_name_over_the_deprecated_one() -> None:
    body = (FIXTURES / "vllm_0.11.txt").read_text()
    with MetricsHTTPServer(lambda: (200, body.encode())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions())
        v = s.sample()
    # 40 requests of ITL 20–59 ms in the ITL histogram; the deprecated one holds one 30 ms observation
    p50 = v[f"serve.{s.sid}.itl.p50_cum_s"]
    assert p50 is not None and 0.025 <= p50 <= 0.05


def test_triton_gives_means_only_and_says_so() -> None:
    body = (FIXTURES / "triton_2.x.txt").read_text()
    with MetricsHTTPServer(lambda: (200, body.encode())) as srv:
        s = ServingSampler(srv.url, 1.0, ServingOptions(slo="search"))
        v = s.sample()
    p = f"serve.{s.sid}."
    assert v[p + "e2e.mean_s"] == pytest.approx(18000000e-6 / 1200)
    assert v[p + "queue.mean_s"] == pytest.approx(2400000e-6 / 1200)
    assert not any(k.startswith(p + "e2e.p") for k in v)
    assert v[p + "e2e.budget_s"] == 0.1  # Triton is not a token streamer: the preset applies to e2e
    ttft = v[p + "ttft.p50_cum_s"]  # first-response histogram in ms, read as seconds
    assert ttft is not None and 0.0 < ttft <= 0.1
    d = s.details()[f"serve.{s.sid}"]
    assert any("means only" in n for n in d["notes"])


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_the_series_cache_gives_what_a_fresh_parse_gives(name: str) -> None:
    body = (FIXTURES / name).read_text()
    cache: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
    prefixes = wanted_prefixes(None)
    first = parse_body(body, prefixes, cache)
    assert cache  # every series seen once is remembered
    changed = body.replace(" 1.0\n", " 7.0\n")  # new values, same series
    assert parse_body(changed, prefixes, cache).samples == parse_body(changed, prefixes).samples
    assert first.samples == parse_body(body, prefixes).samples


def test_every_fixture_says_how_it_was_made() -> None:
    readme = (FIXTURES / "README.md").read_text()
    bodies = sorted(FIXTURES.glob("*.txt"))
    assert {c[0] for c in CASES} <= {b.name for b in bodies}
    for body in bodies:
        first = body.read_text().split("\n", 1)[0]
        assert "HAND-BUILT" in first or "captured from the real" in first, body.name
        assert f"`{body.name}`" in readme, body.name
