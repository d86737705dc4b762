"""Cost and energy arithmetic shared by serving, probe, efficiency, report and compare. No I/O.

Formulas (SERVING.md, "Cost and energy"):
- $/1K tokens = (sum of the GPUs' hourly prices / 3600) / tokens_per_s × 1000;
- $/request  = (sum of hourly prices / 3600) / requests_per_s;
- tokens per joule = tokens / energy (J) over the same interval = (tokens/s) / W.
Each function returns None where its inputs cannot give a number (no tokens, no price, no power),
never a fake zero or an infinity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class CostError(ValueError):
    """A price the user wrote that cannot be used (one line for the CLI)."""


@dataclass(frozen=True)
class GpuPrice:
    """What one GPU costs per hour, in `currency`."""

    per_gpu_hour: float
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not math.isfinite(self.per_gpu_hour) or self.per_gpu_hour <= 0:
            raise CostError(f"a GPU-hour price must be a positive number, not {self.per_gpu_hour!r}")
        if self.per_gpu_hour > 10_000:
            raise CostError(f"a GPU-hour price of {self.per_gpu_hour:g} looks wrong (over 10,000 per hour)")

    def per_second(self, gpus: int) -> float:
        return self.per_gpu_hour * max(gpus, 0) / 3600.0


def parse_price(text: str) -> GpuPrice:
    """`--gpu-hour-cost 2.5` -> GpuPrice(2.5); CostError for anything that is not a positive number."""
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise CostError(f"--gpu-hour-cost takes a price per GPU-hour, e.g. 2.50, not {text!r}") from None
    return GpuPrice(value)


def _positive(x: float | None) -> float | None:
    if x is None or not math.isfinite(x) or x <= 0:
        return None
    return x


def cost_per_1k_tokens(price: GpuPrice | None, gpus: int, tokens_per_s: float | None) -> float | None:
    """Currency units per 1,000 tokens at this throughput on `gpus` GPUs (None without tokens or price)."""
    tps = _positive(tokens_per_s)
    if price is None or tps is None or gpus <= 0:
        return None
    return price.per_second(gpus) / tps * 1000.0


def cost_per_request(price: GpuPrice | None, gpus: int, requests_per_s: float | None) -> float | None:
    """Currency units per finished request (None without requests or price)."""
    rps = _positive(requests_per_s)
    if price is None or rps is None or gpus <= 0:
        return None
    return price.per_second(gpus) / rps


def per_joule(count: float | None, energy_j: float | None) -> float | None:
    """Tokens (or requests) per joule from a count and the energy spent over the same interval."""
    e = _positive(energy_j)
    if count is None or not math.isfinite(count) or count < 0 or e is None:
        return None
    return count / e


def per_joule_from_rates(rate_per_s: float | None, power_w: float | None) -> float | None:
    """The same from rates: (tokens/s) / W = tokens per joule."""
    w = _positive(power_w)
    if rate_per_s is None or not math.isfinite(rate_per_s) or rate_per_s < 0 or w is None:
        return None
    return rate_per_s / w


def format_money(value: float, currency: str = "USD") -> str:
    """Small sums keep their significant digits: 0.000123 -> '$0.000123', 1.5 -> '$1.50'."""
    symbol = "$" if currency == "USD" else f"{currency} "
    if value >= 0.01:
        return f"{symbol}{value:,.2f}"
    return f"{symbol}{value:.3g}"
