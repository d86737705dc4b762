"""Generic mode: a config table maps any endpoint's names (a training job's step time) to perftui's."""

from __future__ import annotations

import argparse

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from perftui.commands.serving_args import serving_options
from perftui.samplers.serving_source import ServeError, ServingSampler
from tests.serving.exporters import MetricsHTTPServer


def test_a_training_job_step_time_and_samples_through_the_same_code() -> None:
    reg = CollectorRegistry()
    step = Histogram("train_step_seconds", "step", buckets=(0.1, 0.2, 0.5, 1.0, 2.0), registry=reg)
    samples = Counter("train_samples", "samples", registry=reg)
    for i in range(50):
        step.observe(0.3 if i < 45 else 1.5)
        samples.inc(32)
    table = {"generic": {"e2e": "train_step_seconds", "requests": "train_samples_total"}, "e2e_p99": "1s"}
    with MetricsHTTPServer(lambda: (200, generate_latest(reg))) as srv:
        opts = serving_options(argparse.Namespace(serve=[srv.url]), table)
        assert opts is not None and opts.profile is not None and opts.profile.server == "generic"
        s = ServingSampler(srv.url, 1.0, opts)
        v = s.sample()
    p = f"serve.{s.sid}."
    assert s.sid is not None and s.sid.startswith("generic-")
    p50 = v[p + "e2e.p50_cum_s"]
    assert p50 is not None and 0.2 <= p50 <= 0.5
    assert v[p + "e2e.budget_s"] == 1.0
    assert v[p + "e2e.over_budget_lo_pct"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({"urls": ["127.0.0.1:1"], "generic": {"step": "x"}}, "unknown name"),
        ({"urls": ["127.0.0.1:1"], "server": "ollama"}, "unknown server"),
        ({"urls": ["127.0.0.1:1"], "gpus": 0}, "gpus"),
        ({"urls": "127.0.0.1:1"}, "list of strings"),
    ],
)
def test_bad_serving_tables(table: dict[str, object], match: str) -> None:
    with pytest.raises((ServeError, ValueError), match=match):
        serving_options(argparse.Namespace(), table)
