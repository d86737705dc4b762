"""One request's outcome, and the running tally a run keeps (cheap enough for 1,000+ requests/s).

Times are `time.perf_counter()` seconds. `scheduled` is when the request was due (open loop: the
arrival schedule; closed loop: when its worker became free); latency is measured from it, so a
client or server stall is charged to every request it delayed (no coordinated omission).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Error kinds, as the report names them ("http 429", "http 500" are made from the status).
TIMEOUT = "timeout"
CONNECT = "connect"
MALFORMED = "malformed stream"
DISCONNECTED = "disconnected"
OTHER = "other"


def http_kind(status: int) -> str:
    return f"http {status}"


@dataclass(slots=True)
class RequestResult:
    scheduled: float
    started: float  # the client began sending (started - scheduled = how late the client was)
    ended: float
    error: str | None = None  # an error kind, None when the request succeeded
    detail: str = ""  # the first error's text, for the report
    ttft: float | None = None  # streams: first chunk with content, from `scheduled`
    gaps: list[float] = field(default_factory=list)  # streams: between content chunks
    tokens: int = 0  # streams: output tokens (usage when sent, else content chunks)
    tokens_from_usage: bool = False
    warmup: bool = False

    @property
    def latency(self) -> float:
        return self.ended - self.scheduled

    @property
    def lateness(self) -> float:
        return self.started - self.scheduled

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Tally:
    """Counters the progress line and the per-second publisher read (one event loop writes)."""

    sent: int = 0
    done: int = 0
    errors: int = 0
    in_flight: int = 0
    max_lateness: float = 0.0
    results: list[RequestResult] = field(default_factory=list)

    def add(self, r: RequestResult) -> None:
        self.done += 1
        if r.error is not None:
            self.errors += 1
        if r.lateness > self.max_lateness:
            self.max_lateness = r.lateness
        self.results.append(r)
