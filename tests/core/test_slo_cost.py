"""The shared SLO presets and cost arithmetic."""

from __future__ import annotations

import math

import pytest

from perftui.core.cost import (
    CostError,
    GpuPrice,
    cost_per_1k_tokens,
    cost_per_request,
    format_money,
    parse_price,
    per_joule,
    per_joule_from_rates,
)
from perftui.core.slo import SLO_PRESETS, SloError, budgets_for, format_seconds, parse_seconds


def test_presets_are_the_playbook_table() -> None:
    assert {n: p.p99_s for n, p in SLO_PRESETS.items()} == {
        "chatbot": 0.2,
        "search": 0.1,
        "content": 2.0,
        "fraud": 0.05,
        "autonomous": 0.02,
        "batch": None,
    }


def test_preset_applies_to_ttft_when_streaming_else_e2e() -> None:
    (b,) = budgets_for("chatbot", streaming=True)
    assert (b.metric, b.p99_s) == ("ttft", 0.2)
    (b,) = budgets_for("fraud", streaming=False)
    assert (b.metric, b.p99_s) == ("e2e", 0.05)
    assert budgets_for("batch", streaming=True) == ()


def test_explicit_budget_overrides_preset_for_its_metric() -> None:
    bs = budgets_for("chatbot", streaming=True, ttft_p99_s=0.5, itl_p99_s=0.05)
    assert [(b.metric, b.p99_s, b.source) for b in bs] == [
        ("ttft", 0.5, "--slo-ttft-p99"),
        ("itl", 0.05, "--slo-itl-p99"),
    ]
    assert "P99 time to first token < 500 ms" in bs[0].describe()


@pytest.mark.parametrize("bad", ["nope", "", "CHAT"])
def test_unknown_preset_names_the_known_ones(bad: str) -> None:
    with pytest.raises(SloError, match="chatbot"):
        budgets_for(bad, streaming=True)


@pytest.mark.parametrize(("text", "seconds"), [("0.2", 0.2), ("200ms", 0.2), ("2s", 2.0), ("150us", 150e-6)])
def test_parse_seconds(text: str, seconds: float) -> None:
    assert parse_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "1e999", "abc", "5 min"])
def test_parse_seconds_rejects(bad: str) -> None:
    with pytest.raises(SloError):
        parse_seconds(bad)


def test_format_seconds() -> None:
    assert format_seconds(0.0123) == "12.3 ms"
    assert format_seconds(0.41) == "410 ms"
    assert format_seconds(2.5) == "2.50 s"
    assert format_seconds(40e-6) == "40 µs"


def test_cost_per_1k_tokens_formula() -> None:
    price = GpuPrice(3.6)  # 0.001 per GPU-second
    # 8 GPUs cost 0.008/s; at 1000 tokens/s one token costs 8e-6, 1K tokens 0.008
    assert cost_per_1k_tokens(price, 8, 1000.0) == pytest.approx(0.008)
    assert cost_per_request(price, 8, 4.0) == pytest.approx(0.002)


@pytest.mark.parametrize("tps", [None, 0.0, -1.0, math.nan, math.inf])
def test_cost_needs_a_throughput(tps: float | None) -> None:
    assert cost_per_1k_tokens(GpuPrice(2.0), 1, tps) is None
    assert cost_per_1k_tokens(None, 1, 100.0) is None


def test_per_joule() -> None:
    assert per_joule(700.0, 350.0) == 2.0
    assert per_joule_from_rates(700.0, 350.0) == 2.0
    assert per_joule(10.0, 0.0) is None
    assert per_joule_from_rates(10.0, None) is None


@pytest.mark.parametrize("bad", ["free", "0", "-2", "nan", "inf", "1e9"])
def test_bad_prices(bad: str) -> None:
    with pytest.raises(CostError):
        parse_price(bad)


def test_money_format() -> None:
    assert parse_price("$2.50").per_gpu_hour == 2.5
    assert format_money(1.5) == "$1.50"
    assert format_money(0.000123) == "$0.000123"
