"""A small client of Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`), with the
failures a user can cause turned into one-line `PrometheusError`s: unreachable, not a Prometheus,
a query that times out, refused credentials, a PromQL error."""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
PARALLEL_QUERIES = 4  # queries in flight at once: a fleet's batch, never a stampede on Prometheus
MAX_GET_QUERY = 4000  # a longer query string (a regex over many instances) goes as a POST form

Series = dict[str, Any]  # {"metric": {labels}, "value": [ts, "v"]} or {"metric":…, "values": [[ts, "v"], …]}


class PrometheusError(Exception):
    """Prometheus cannot answer; the message is one line for the user."""


def sample_value(text: str) -> float:
    """Prometheus sends values as strings: "1.5", "NaN", "+Inf", "-Inf"."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def authorization(
    *, bearer_file: str | None = None, bearer_env: str | None = None, basic_file: str | None = None
) -> str | None:
    """An Authorization header from a file or an environment variable (never from the command line).

    `basic_file` holds `user:password` on its first line; `bearer_file`/`bearer_env` a token."""
    try:
        if bearer_file:
            return "Bearer " + Path(bearer_file).read_text(encoding="utf-8").strip()
        if basic_file:
            pair = Path(basic_file).read_text(encoding="utf-8").splitlines()[0].strip()
            if ":" not in pair:
                raise PrometheusError(f"{basic_file}: expected user:password on the first line")
            return "Basic " + base64.b64encode(pair.encode()).decode()
    except (OSError, IndexError) as exc:
        raise PrometheusError(f"cannot read the credentials file: {exc}") from exc
    if bearer_env:
        token = os.environ.get(bearer_env, "").strip()
        if not token:
            raise PrometheusError(f"the environment variable {bearer_env} is empty or unset")
        return "Bearer " + token
    return None


class PrometheusApi:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        auth: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PrometheusError(f"not an http(s) URL: {base_url!r}")
        if parsed.username or parsed.password:
            raise PrometheusError("put credentials in a file or an environment variable, not in the URL")
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._auth = auth
        self._ssl = ssl_context
        self.parallel = PARALLEL_QUERIES
        self._pool: ThreadPoolExecutor | None = None  # made once: no thread starts on every poll
        self.queries = 0  # HTTP requests made (the fleet's cost, not noisy like CPU time)
        self._count_lock = threading.Lock()

    def run_all(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Every job's result in order, at most `parallel` at once; the first failure is raised."""
        if len(jobs) <= 1 or self.parallel <= 1:
            return [job() for job in jobs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="prometheus-query")
        return list(self._pool.map(lambda job: job(), jobs))

    def query_all(self, promqls: Sequence[str]) -> list[list[Series]]:
        return self.run_all([functools.partial(self.query, q) for q in promqls])

    def query_range_all(
        self, promqls: Sequence[str], start: float, end: float, step: float
    ) -> list[list[Series]]:
        return self.run_all([functools.partial(self.query_range, q, start, end, step) for q in promqls])

    def _get(self, path: str, params: dict[str, str]) -> Any:
        with self._count_lock:
            self.queries += 1
        query = urllib.parse.urlencode(params)
        if len(query) <= MAX_GET_QUERY:
            req = urllib.request.Request(f"{self.base}{path}?{query}", headers={"Accept": "application/json"})
        else:  # Prometheus takes the same parameters as a form body
            req = urllib.request.Request(
                f"{self.base}{path}",
                data=query.encode(),
                headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
            )
        if self._auth:
            req.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ssl) as r:
                body = r.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise PrometheusError(f"{self.base} refused the credentials (HTTP {exc.code})") from exc
            body = exc.read()  # Prometheus answers bad queries with 400/422 and a JSON error
            if not body:
                raise PrometheusError(f"{self.base} answered HTTP {exc.code} {exc.reason}") from exc
        except TimeoutError as exc:
            raise PrometheusError(f"{self.base} did not answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise PrometheusError(f"{self.base} did not answer within {self.timeout:g} s") from exc
            why = getattr(reason, "strerror", None) or str(reason)
            raise PrometheusError(f"cannot reach Prometheus at {self.base}: {why}") from exc
        except OSError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.base}: {exc}") from exc
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise PrometheusError(
                f"{self.base} does not look like a Prometheus server (no JSON API)"
            ) from exc
        if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
            raise PrometheusError(f"{self.base} does not look like a Prometheus server")
        if doc["status"] == "error":
            raise PrometheusError(f"Prometheus: {doc.get('errorType', 'error')}: {doc.get('error', '')}")
        return doc.get("data")

    def _result(self, data: Any, kind: str) -> list[Series]:
        if not isinstance(data, dict) or data.get("resultType") != kind:
            raise PrometheusError(f"{self.base}: expected a {kind} result")
        return list(data.get("result") or [])

    def query(self, promql: str, at: float | None = None) -> list[Series]:
        params = {"query": promql, "timeout": f"{self.timeout:g}s"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._result(self._get("/api/v1/query", params), "vector")

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        params = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
            "timeout": f"{self.timeout:g}s",
        }
        return self._result(self._get("/api/v1/query_range", params), "matrix")
