"""Arrival schedules for the open loop: when each request is due, from the start of the run.

Poisson arrivals (exponential gaps, as `vllm bench serve --request-rate` with burstiness 1) or a
constant rate. Offsets are drawn lazily so a long run costs no memory up front; a seed makes a
schedule reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Literal

Arrivals = Literal["poisson", "constant"]
ARRIVALS: tuple[Arrivals, ...] = ("poisson", "constant")


def offsets(rate: float, arrivals: Arrivals = "poisson", seed: int | None = None) -> Iterator[float]:
    """Seconds from the start at which each request is due (the first at 0), forever."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    t = 0.0
    if arrivals == "constant":
        gap = 1.0 / rate
        n = 0
        while True:
            yield n * gap  # multiply, don't accumulate: no drift over a long run
            n += 1
    rng = random.Random(seed)
    while True:
        yield t
        t += rng.expovariate(rate)
