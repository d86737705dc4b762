"""Bad endpoints: unreachable, 404, 401, not Prometheus, a huge body, a slow server; bad --serve values."""

from __future__ import annotations

import time

import pytest

from perftui.samplers.serving_source import ScrapeError, ServeError, ServingSampler, normalize_url
from tests.llm.llama_server import free_port
from tests.serving.exporters import MetricsHTTPServer


def test_unreachable() -> None:
    s = ServingSampler(f"127.0.0.1:{free_port()}")
    with pytest.raises(ScrapeError, match="unreachable"):
        s.sample()


@pytest.mark.parametrize(("status", "match"), [(404, "HTTP 404"), (401, "needs credentials")])
def test_http_errors(status: int, match: str) -> None:
    with MetricsHTTPServer(lambda: (status, b"no")) as srv, pytest.raises(ScrapeError, match=match):
        ServingSampler(srv.url).sample()


def test_not_prometheus_text() -> None:
    html = b"<html><body>Welcome</body></html>\n"
    with MetricsHTTPServer(lambda: (200, html)) as srv, pytest.raises(ScrapeError, match="not Prometheus"):
        ServingSampler(srv.url).sample()


def test_prometheus_text_of_no_known_server_lists_what_it_found() -> None:
    body = b"# TYPE my_app_steps_total counter\nmy_app_steps_total 5\n"
    with (
        MetricsHTTPServer(lambda: (200, body)) as srv,
        pytest.raises(ScrapeError, match="found: my_app_steps"),
    ):
        ServingSampler(srv.url).sample()


def test_a_50_mb_body_is_capped() -> None:
    big = b"vllm:num_requests_running 1\n" * (50 * 1024 * 1024 // 28)
    with MetricsHTTPServer(lambda: (200, big)) as srv:
        s = ServingSampler(srv.url, max_bytes=4 * 1024 * 1024)
        with pytest.raises(ScrapeError, match="larger than 4 MiB"):
            s.sample()


def test_a_slow_server_times_out_within_a_second() -> None:
    with MetricsHTTPServer(lambda: (200, b"vllm:num_requests_running 1\n"), delay_s=10.0) as srv:
        s = ServingSampler(srv.url, timeout_s=10.0)  # asked for more: capped at 1 s
        t0 = time.monotonic()
        with pytest.raises(ScrapeError, match=r"within 1 s|timed out"):
            s.sample()
        assert time.monotonic() - t0 < 1.5


@pytest.mark.parametrize("bad", ["", "ftp://x/metrics", "http://:80", "127.0.0.1:99999", "http://a b"])
def test_malformed_serve_values(bad: str) -> None:
    with pytest.raises(ServeError):
        normalize_url(bad)


def test_url_forms() -> None:
    assert normalize_url("127.0.0.1:8000") == "http://127.0.0.1:8000/metrics"
    assert normalize_url("http://localhost:30000/") == "http://localhost:30000/metrics"
    assert normalize_url("https://h:9/custom") == "https://h:9/custom"


def test_a_slow_server_goes_stale_while_the_rest_goes_on() -> None:
    from perftui.samplers.base import BaseSampler, Values
    from perftui.samplers.runner import SamplerRunner
    from perftui.store.metric_store import MetricStore
    from tests.polling import wait_for

    class Ticker(BaseSampler):
        name = "ticker"
        interval = 0.05
        n = 0.0

        def sample(self) -> Values:
            self.n += 1
            return {"cpu.util": self.n}

    store = MetricStore(capacity=256)
    with MetricsHTTPServer(lambda: (200, b"vllm:num_requests_running 1\n"), delay_s=10.0) as srv:
        serving = ServingSampler(srv.url, interval=0.2)
        runner = SamplerRunner(store, [serving, Ticker()])
        runner.start()
        try:

            def stale() -> bool:
                st = store.status(serving.name)
                return st is not None and not st.available and "within 1 s" in (st.reason or "")

            assert wait_for(stale, timeout=5.0)
            assert wait_for(lambda: (store.latest("cpu.util") or 0) > 20, timeout=5.0)
        finally:
            runner.stop()


def test_a_trickling_server_is_cut_at_the_deadline() -> None:
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    done = threading.Event()

    def trickle() -> None:
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not done.wait(0.2):  # a byte every 200 ms: no single read ever times out
            try:
                conn.sendall(b"v")
            except OSError:
                break
        conn.close()

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        t0 = time.monotonic()
        with pytest.raises(ScrapeError, match="within 1 s"):
            ServingSampler(f"127.0.0.1:{port}").sample()
        assert time.monotonic() - t0 < 1.6
    finally:
        done.set()
        srv.close()
        t.join(5)
