"""The serving source: scrapes an inference server's Prometheus `/metrics` on its own thread.

One sampler per endpoint (`--serve URL`, `[serving]` in the config, or discovered on this host). A
scrape waits at most `timeout_s` (≤ 1 s) in all and reads at most `max_bytes`; a failure raises a
one-line reason, so the runner marks the source stale with it while the rest of perftui goes on.
The pure parts (profiles, quantiles, rates) live in `perftui.samplers.serving`.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perftui.core.cost import GpuPrice, per_joule_from_rates
from perftui.core.slo import Budget, budgets_for
from perftui.samplers.base import BaseSampler, Values
from perftui.samplers.serving.compute import server_values
from perftui.samplers.serving.errors import ServeError
from perftui.samplers.serving.parse import (
    LabelCache,
    NotPrometheus,
    Reading,
    Scrape,
    generation,
    parse_body,
    readings,
)
from perftui.samplers.serving.profiles import Profile, detect, wanted_prefixes

MAX_BODY_BYTES = 16 * 1024 * 1024
TIMEOUT_S = 1.0
WINDOW_S = 60.0


class ScrapeError(RuntimeError):
    """A scrape that failed; the message is the reason the source is stale."""


def normalize_url(text: str) -> str:
    """'host:port', 'http://host:port' or a full URL -> the URL of its /metrics; ServeError otherwise."""
    raw = text.strip()
    if not raw:
        raise ServeError("--serve needs a URL like http://127.0.0.1:8000/metrics or 127.0.0.1:8000")
    url = raw if "://" in raw else f"http://{raw}"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ServeError(f"--serve {text!r}: only http:// and https:// endpoints can be scraped")
    try:
        port = parts.port
    except ValueError:
        raise ServeError(f"--serve {text!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname or port == 0 or any(c.isspace() for c in raw):
        raise ServeError(f"--serve {text!r}: not a URL (example: http://127.0.0.1:8000/metrics)")
    path = parts.path if parts.path not in ("", "/") else "/metrics"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def is_local(url: str) -> bool:
    return (urllib.parse.urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _gpus(n: int) -> str:
    return f"{n} GPU" if n == 1 else f"{n} GPUs"


def source_id(url: str, server: str) -> str:
    """`vllm-8000`; a host that is not loopback is named too (`vllm-gpu1-8000`)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    name = server if is_local(url) else f"{server}-{host}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{name}-{port}")


def fetch(url: str, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_BODY_BYTES) -> str:
    """GET `url` within `timeout_s` in all, at most `max_bytes`; ScrapeError with a one-line reason."""
    deadline = time.monotonic() + timeout_s
    req = urllib.request.Request(url, headers={"Accept": "text/plain"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise ScrapeError(f"{url}: no complete answer within {timeout_s:g} s")
                chunk = resp.read1(min(1 << 16, max_bytes + 1 - size))  # one recv: the deadline holds
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise ScrapeError(
                        f"{url}: body larger than {max_bytes // (1 << 20)} MiB (not read further)"
                    )
    except urllib.error.HTTPError as exc:
        hint = " (needs credentials)" if exc.code in (401, 403) else ""
        raise ScrapeError(f"{url}: HTTP {exc.code} {exc.reason}{hint}") from None
    except urllib.error.URLError as exc:
        raise ScrapeError(f"{url}: unreachable ({exc.reason})") from None
    except TimeoutError:
        raise ScrapeError(f"{url}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise ScrapeError(f"{url}: {exc}") from None
    return b"".join(chunks).decode("utf-8", errors="replace")


@dataclass
class ServingOptions:
    """What every serving sampler shares: budgets, price, window; a forced or generic profile."""

    urls: list[str] = field(default_factory=list)
    slo: str | None = None
    ttft_p99_s: float | None = None
    itl_p99_s: float | None = None
    e2e_p99_s: float | None = None
    price: GpuPrice | None = None
    gpus: int | None = None  # GPUs the price applies to; None: a local server's are all NVML sees
    gpus_from: str = ""  # where `gpus` came from ("--serve-gpus", "[serving] gpus"), shown with the cost
    window_s: float = WINDOW_S
    discover: bool = False
    profile: Profile | None = None  # None: recognise the server from its metric names


class ServingSampler(BaseSampler):
    """Scrapes one endpoint; values `serve.<sid>.*`, details `serve.<sid>` (server, version, gaps)."""

    def __init__(
        self,
        url: str,
        interval: float = 1.0,
        options: ServingOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = TIMEOUT_S,
        max_bytes: int = MAX_BODY_BYTES,
        power: Callable[[], float | None] | None = None,
        gpu_count: Callable[[], int | None] | None = None,
    ) -> None:
        self._power = power  # all GPUs' board power (W): tokens per joule
        self._gpu_count = gpu_count  # the GPUs NVML sees (the GPU sampler's count): the cost's default
        self.url = normalize_url(url)
        self.name = f"serving:{self.url}"
        self.interval = interval
        self.options = options or ServingOptions()
        self.timeout_s = min(timeout_s, TIMEOUT_S)
        self.max_bytes = max_bytes
        self._clock = clock
        self.profile: Profile | None = self.options.profile
        self.sid: str | None = None
        self._history: deque[tuple[float, dict[str | None, Reading]]] = deque()
        self._details: dict[str, Any] = {}
        self._labels: LabelCache = {}

    def budgets(self) -> tuple[Budget, ...]:
        o = self.options
        streaming = self.profile.streaming if self.profile else True
        return budgets_for(
            o.slo, streaming=streaming, ttft_p99_s=o.ttft_p99_s, itl_p99_s=o.itl_p99_s, e2e_p99_s=o.e2e_p99_s
        )

    def details(self) -> Mapping[str, Any]:
        return dict(self._details)

    def sample(self) -> Values:
        body = fetch(self.url, self.timeout_s, self.max_bytes)
        now = self._clock()
        try:
            scrape = parse_body(body, wanted_prefixes(self.profile), self._labels)
        except NotPrometheus as exc:
            raise ScrapeError(f"{self.url}: {exc}") from None
        if self.profile is None:
            self.profile = detect(scrape.samples)
            if self.profile is None:
                found = ", ".join(sorted(scrape.families)[:12]) or "no metrics"
                raise ScrapeError(f"{self.url}: no known inference server's metrics (found: {found})")
            scrape = parse_body(body, wanted_prefixes(self.profile), self._labels)
        profile = self.profile
        self.sid = self.sid or source_id(self.url, profile.server)
        current = readings(profile, scrape)
        prev = self._history[-1] if self._history else None
        if prev is not None and _restarted(prev[1].get(None), current.get(None)):
            self._history.clear()  # a restart: no rates and a fresh window from here
            prev = None
        while self._history and now - self._history[0][0] > self.options.window_s:
            self._history.popleft()
        start = self._history[0] if self._history else None
        out: Values = {}
        models = [m for m in current if m is not None]
        budgets = self.budgets()
        cost_gpus, cost_basis = self.cost_gpus()
        detail: dict[str, Any] = {}
        for model in [None, *models] if len(models) > 1 else [None]:
            sid = self.sid if model is None else f"{self.sid}-{re.sub(r'[^A-Za-z0-9_-]', '_', model)}"
            vals, det = server_values(
                sid,
                current[model],
                prev[1].get(model) if prev else None,
                now - prev[0] if prev else 0.0,
                start[1].get(model) if start else None,
                budgets,
                self.options.price,
                cost_gpus,
            )
            out.update(vals)
            detail[sid] = det
        self._efficiency(out)
        self._history.append((now, current))
        self._details[f"serve.{self.sid}"] = self._describe(
            profile, scrape, current.get(None), detail, budgets
        )
        if self.options.price is not None:
            self._details[f"serve.{self.sid}"]["cost_basis"] = cost_basis
        return out

    def cost_gpus(self) -> tuple[int, str]:
        """(GPUs the cost is for, the assumption in words); 0: no cost. Given (--serve-gpus, config)
        wins; else a server on this host is costed on every GPU NVML sees here; a remote one is not."""
        o = self.options
        if o.gpus is not None:
            return o.gpus, f"cost for {_gpus(o.gpus)} ({o.gpus_from or 'given'})"
        if not is_local(self.url):
            return 0, "no cost: a remote server's GPU count is not seen from here (--serve-gpus N)"
        seen = self._gpu_count() if self._gpu_count is not None else None
        if seen:
            return seen, f"cost for {_gpus(seen)}: all that NVML sees on this host (--serve-gpus N to set)"
        return 1, "cost for 1 GPU, assumed: NVML sees no GPU here (--serve-gpus N to set)"

    def _efficiency(self, out: Values) -> None:
        watts = self._power() if self._power is not None else None
        for key in [k for k in out if k.endswith(".gen_tokens_per_s")]:
            out[key[: -len("gen_tokens_per_s")] + "tokens_per_joule"] = per_joule_from_rates(out[key], watts)

    def _describe(
        self,
        profile: Profile,
        scrape: Scrape,
        total: Reading | None,
        detail: dict[str, Any],
        budgets: tuple[Budget, ...],
    ) -> dict[str, Any]:
        have = set()
        if total is not None:
            have = {*total.counters, *total.gauges, *total.hists, *total.means}
        missing = [name for name in profile.expected if name not in have]
        return {
            "url": self.url,
            "server": profile.server,
            "label": profile.label,
            "generation": generation(profile, scrape),
            "missing": missing,
            "notes": list(profile.notes),
            "families": len(scrape.families),
            "budgets": [b.describe() for b in budgets],
            "window_s": self.options.window_s,
            "power": "all GPUs (which GPUs the server uses is not known)" if self._power else None,
            "models": detail,
        }


def _restarted(prev: Reading | None, now: Reading | None) -> bool:
    if prev is None or now is None:
        return False
    return any(now.counters.get(k, v) < v for k, v in prev.counters.items()) or any(
        h.counts[-1] < prev.hists[k].counts[-1] for k, h in now.hists.items() if k in prev.hists
    )


# -- discovery of local servers ----------------------------------------------------------------------
SERVER_WORDS = re.compile(
    r"(?:^|[/\s_.-])(vllm|sglang|text-generation-(?:launcher|router)|tritonserver|llama-server)(?:$|[\s_.:-])"
)


def _listening_ports(proc: Any) -> list[int]:
    try:
        conns = (
            proc.net_connections(kind="tcp") if hasattr(proc, "net_connections") else proc.connections("tcp")
        )
    except Exception:  # psutil.AccessDenied / NoSuchProcess / ZombieProcess
        return []
    return sorted({c.laddr.port for c in conns if c.status == "LISTEN" and c.laddr})


def discover_local(timeout_s: float = 0.5, probe: Callable[[str], str] | None = None) -> list[str]:
    """/metrics URLs of local inference servers: a process whose command line names a known server and
    that listens on TCP; each of its ports is probed once on 127.0.0.1 (never another host, no scan)."""
    import psutil

    get = probe or (lambda url: fetch(url, timeout_s, MAX_BODY_BYTES))
    found: list[str] = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info.get("cmdline") or [])
        if not cmd or not SERVER_WORDS.search(cmd):
            continue
        for port in _listening_ports(proc):
            url = f"http://127.0.0.1:{port}/metrics"
            try:
                scrape = parse_body(get(url), wanted_prefixes(None))
            except (ScrapeError, NotPrometheus):
                continue
            if detect(scrape.samples) is not None and url not in found:
                found.append(url)
    return found


def serving_samplers(
    interval: float,
    options: ServingOptions,
    power: Callable[[], float | None] | None = None,
    gpu_count: Callable[[], int | None] | None = None,
) -> list[ServingSampler]:
    """One sampler per `--serve`/config URL, plus the discovered local servers when asked."""
    urls = [normalize_url(u) for u in options.urls]
    if options.discover:
        urls += [u for u in discover_local() if u not in urls]
    return [
        ServingSampler(u, interval, options, power=power, gpu_count=gpu_count) for u in dict.fromkeys(urls)
    ]
