"""The probe's pure parts: schedules, SSE decoding, percentiles with intervals, the knee, specs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from perftui.core.slo import budgets_for
from perftui.core.specs import REGISTRY
from perftui.core.units import Unit
from perftui.probe.client import Load, RunInfo
from perftui.probe.results import RequestResult
from perftui.probe.schedule import offsets
from perftui.probe.sse import DONE, MalformedStream, SseDecoder, parse_chunk
from perftui.probe.stats import distribution, needed
from perftui.probe.summary import summarize
from perftui.probe.sweep import find_knee, parse_list


def test_constant_schedule_is_exact() -> None:
    assert list(itertools.islice(offsets(4, "constant"), 5)) == [0, 0.25, 0.5, 0.75, 1.0]


def test_poisson_schedule_has_the_rate_and_exponential_gaps() -> None:
    ts = np.array(list(itertools.islice(offsets(50, "poisson", seed=1), 20001)))
    gaps = np.diff(ts)
    assert gaps.mean() == pytest.approx(1 / 50, rel=0.03)
    assert gaps.std() == pytest.approx(1 / 50, rel=0.05)  # exponential: std == mean
    assert list(itertools.islice(offsets(50, seed=7), 5)) == list(itertools.islice(offsets(50, seed=7), 5))


def test_sse_decoder_events_comments_and_done() -> None:
    dec = SseDecoder()
    lines = [b": keep-alive\n", b"\n", b'data: {"a":1}\r\n', b"\n", b"event: x\n", b"data: [DONE]\n", b"\n"]
    assert [d for d in (dec.feed_line(raw) for raw in lines) if d is not None] == ['{"a":1}', DONE]
    with pytest.raises(MalformedStream):
        SseDecoder().feed_line(b"garbage here\n")


def test_parse_chunk_completion_chat_usage_and_errors() -> None:
    assert parse_chunk('{"choices":[{"text":"hi","finish_reason":null}]}').content == "hi"
    chat = parse_chunk('{"choices":[{"delta":{"role":"assistant"}}]}')
    assert chat.content == "" and chat.completion_tokens is None
    usage = parse_chunk('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}')
    assert usage.completion_tokens == 9
    assert parse_chunk('{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}').finished
    for bad in ("{oops", "[1]", '{"object": "x"}', '{"error": {"message": "boom"}}'):
        with pytest.raises(MalformedStream):
            parse_chunk(bad)


def test_bootstrap_interval_covers_the_true_percentile() -> None:
    rng = np.random.default_rng(3)
    v = rng.exponential(0.01, 4000)
    d = distribution(v)
    assert d is not None
    truth = {"p50": np.log(2) * 0.01, "p99": np.log(100) * 0.01}
    for name, t in truth.items():
        p = d.pct(name)
        assert p.lo <= t <= p.hi and p.lo < p.value < p.hi
        assert (p.hi - p.lo) < 0.2 * t
    assert d.pct("p99").enough and not d.pct("p999").enough
    assert needed(99.9) == 5000 and needed(99) == 500
    assert distribution([]) is None
    one = distribution([0.5])
    assert one is not None and one.pct("p99").value == 0.5 and one.warnings()


def _results(latencies: list[float], errors: int = 0) -> list[RequestResult]:
    out = [RequestResult(0.0, 0.0, lat) for lat in latencies]
    out += [RequestResult(0.0, 0.0, 0.01, error="http 500") for _ in range(errors)]
    return out


def test_goodput_counts_requests_within_every_budget() -> None:
    budgets = budgets_for("search", streaming=False)  # P99 e2e < 100 ms
    load = Load(rate=10, duration=1.0)
    s = summarize(
        _results([0.05] * 8 + [0.2] * 2, errors=1), RunInfo(end=1.0), load, streaming=False, budgets=budgets
    )
    assert s.good == 8 and s.goodput_rps == pytest.approx(8.0)
    assert s.errors == {"http 500": 1} and s.achieved_rps == pytest.approx(11.0)


def test_knee_is_the_highest_load_within_budget() -> None:
    budgets = budgets_for(None, streaming=False, e2e_p99_s=0.1)
    steps = [
        summarize(_results([lat] * 50), RunInfo(end=1.0), Load(rate=r, duration=1.0), streaming=False)
        for r, lat in ((1, 0.01), (2, 0.02), (4, 0.09), (8, 0.5))
    ]
    assert find_knee(steps, budgets).index == 2
    assert find_knee(steps, ()).index == 1  # no budget: P99 within 2x the lightest load's
    assert find_knee(steps[3:], budgets).index is None
    assert parse_list("1, 2,4.5", integer=False) == [1, 2, 4.5]
    for bad in ("0", "-1", "x", "1,,2"):
        with pytest.raises(ValueError):
            parse_list(bad, integer=False)


def test_probe_keys_have_specs() -> None:
    assert REGISTRY.unit("probe.ttft.p99_s") is Unit.SECONDS
    assert REGISTRY.unit("probe.requests_per_s") is Unit.PER_S
    for key in ("probe.latency.p999_s", "probe.itl.p50_s", "probe.e2e.p95_s", "probe.tokens_per_s"):
        spec = REGISTRY.get(key)
        assert spec is not None and spec.source == "probe"


def test_running_table_in_batches_equals_all_at_once() -> None:
    from perftui.probe.live import RunningTable

    lat = np.random.default_rng(5).exponential(0.02, 3000)
    results = [RequestResult(0.0, 0.0, float(x)) for x in lat]
    results[0].warmup = True  # left out
    t = RunningTable(streaming=False)
    for i in range(0, 3000, 700):
        t.add(results[i : i + 700])
        t.table()
    table = t.table()["latency"]
    assert table["count"] == 2999
    assert table["p99"] == pytest.approx(float(np.percentile(lat[1:], 99)))
    assert table["max"] == pytest.approx(float(lat[1:].max()))
