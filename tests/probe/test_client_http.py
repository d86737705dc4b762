"""The probe against a real loopback HTTP server with known latencies, stalls and faults."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from perftui.probe.client import Load, Prober, Target
from perftui.probe.summary import summarize
from tests.probe.helpers import closed_port, probe
from tests.probe.server import Server, running_server


@pytest.fixture
def server() -> Server:
    with running_server() as s:
        yield s  # type: ignore[misc]


def test_percentiles_match_the_injected_latencies(server: Server) -> None:
    load = Load(rate=40, arrivals="constant", requests=100)
    tally, info = probe(Target(f"{server.url}/mix"), load)
    s = summarize(tally.results, info, load, streaming=False)
    d = s.metrics["latency"]
    assert s.succeeded == 100 and not s.errors
    # 90 % take 10 ms, 10 % take 50 ms: P50 ≈ 10 ms, P95 and P99 ≈ 50 ms, plus the loopback's cost
    # and the server thread's share of this process (a loaded CI box adds a few ms)
    assert 0.010 <= d.pct("p50").value < 0.030
    assert 0.050 <= d.pct("p95").value < 0.090
    assert 0.050 <= d.pct("p99").value < 0.100
    assert 0.014 <= d.mean < 0.040  # the truth: 0.9 × 10 + 0.1 × 50 = 14 ms
    p50 = d.pct("p50")
    assert p50.lo <= p50.value <= p50.hi
    assert not d.pct("p999").enough and any("P99.9" in w for w in s.warnings)


def test_open_loop_keeps_its_rate(server: Server) -> None:
    load = Load(rate=100, arrivals="constant", duration=1.5)
    t0 = time.perf_counter()
    tally, info = probe(Target(f"{server.url}/delay/1"), load)
    s = summarize(tally.results, info, load, streaming=False)
    assert 145 <= s.completed <= 151
    assert time.perf_counter() - t0 < 4
    assert s.achieved_rps == pytest.approx(100, rel=0.1)
    starts = sorted(r.scheduled for r in tally.results)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert max(gaps) - min(gaps) < 1e-6  # the schedule itself is exact; lateness is separate
    assert s.lateness_p99_s < 0.05


def test_a_server_stall_is_charged_to_every_request_it_delayed(server: Server) -> None:
    """10 req/s and a 1 s server stall: ~10 requests are slow, not 1 (no coordinated omission)."""
    server.stall_at = time.perf_counter() + 0.55
    server.stall_s = 1.0
    load = Load(rate=10, arrivals="constant", duration=2.2)
    tally, _info = probe(Target(f"{server.url}/stall"), load)
    slow = [r for r in tally.results if r.latency > 0.1]
    assert 9 <= len(slow) <= 11
    assert max(r.latency for r in slow) == pytest.approx(1.0, abs=0.15)
    assert sorted(r.latency for r in slow)[0] < 0.3  # the last one delayed waited least


def test_a_client_stall_is_charged_from_the_schedule(server: Server) -> None:
    """The client's own loop blocks for 0.5 s: the requests it could not send are late, and slow."""
    load = Load(rate=20, arrivals="constant", duration=1.6)
    prober = Prober(Target(f"{server.url}/delay/1"), load)

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.6, time.sleep, 0.5)
        await prober.run()

    asyncio.run(main())
    s = summarize(prober.tally.results, prober.info, load, streaming=False)
    slow = [r for r in prober.tally.results if r.latency > 0.1]
    assert 8 <= len(slow) <= 12
    assert s.lateness_max_s == pytest.approx(0.5, abs=0.15)
    assert any("fell behind" in w for w in s.warnings)


def test_closed_loop_keeps_n_in_flight(server: Server) -> None:
    load = Load(concurrency=4, requests=40)
    tally, info = probe(Target(f"{server.url}/delay/20"), load)
    s = summarize(tally.results, info, load, streaming=False)
    assert s.completed == 40
    # 4 workers × 20 ms: about 200 req/s at most
    assert 80 < s.achieved_rps < 210


def test_connection_refused_is_a_connect_error() -> None:
    load = Load(rate=50, arrivals="constant", requests=5)
    tally, info = probe(Target(f"http://127.0.0.1:{closed_port()}/"), load)
    s = summarize(tally.results, info, load, streaming=False)
    assert s.errors == {"connect": 5} and s.succeeded == 0


@pytest.mark.parametrize("code", [429, 500])
def test_http_errors_by_status(server: Server, code: int) -> None:
    load = Load(rate=50, arrivals="constant", requests=5)
    tally, info = probe(Target(f"{server.url}/status/{code}"), load)
    s = summarize(tally.results, info, load, streaming=False)
    assert s.errors == {f"http {code}": 5}
    assert "latency" not in s.metrics  # failed requests are not latency samples


def test_a_hung_request_times_out(server: Server) -> None:
    load = Load(rate=10, arrivals="constant", requests=2, timeout=0.3)
    t0 = time.perf_counter()
    tally, info = probe(Target(f"{server.url}/hang"), load)
    s = summarize(tally.results, info, load, streaming=False)
    assert s.errors == {"timeout": 2}
    assert time.perf_counter() - t0 < 2


def test_warmup_is_excluded(server: Server) -> None:
    load = Load(rate=20, arrivals="constant", duration=0.5, warmup=0.5)
    tally, info = probe(Target(f"{server.url}/delay/1"), load)
    s = summarize(tally.results, info, load, streaming=False)
    assert s.warmup_excluded == 10
    assert s.completed == 10


def test_post_body_and_headers_are_sent(server: Server) -> None:
    target = Target(f"{server.url}/echo", "POST", {"Authorization": "Bearer s3cret"}, b'{"q": 1}')
    probe(target, Load(rate=20, arrivals="constant", requests=2))
    assert server.bodies == [{"raw": '{"q": 1}'}] * 2
    assert server.headers[0]["Authorization"] == "Bearer s3cret"
