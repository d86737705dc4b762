"""MFU arithmetic and the throughput keys it reads. No I/O.

MFU (model FLOPs utilization) = model FLOPs per second ÷ the GPUs' dense BF16 peak, where model
FLOPs per token are 6·N for training (forward + backward) and 2·N for inference (forward only),
N the number of parameters. Its gap to FLOPS utilization is work the hardware did that the model
formula does not count (recomputation, attention, padding) or counts the other way.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterable

MAX_PARAMS = 1e14  # 100 trillion parameters: beyond any model that exists
FLOPS_PER_TOKEN = {"train": 6.0, "infer": 2.0}

# Where tokens/s and requests/s come from, in order of preference (serving source, then probe).
TOKEN_KEYS = ("serve.*.gen_tokens_per_s", "probe.tokens_per_s")
REQUEST_KEYS = ("serve.*.requests_per_s", "probe.requests_per_s")

_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


class MfuError(ValueError):
    """A --model-params or --mfu-mode value that cannot be used (one line for the CLI)."""


def parse_params(text: str) -> float:
    """`--model-params 7e9`, `7000000000` or `7B` (K, M, B, T suffixes) -> 7e9; MfuError otherwise."""
    raw = text.strip().replace("_", "").replace(",", "")
    m = re.fullmatch(r"([0-9.eE+-]+)\s*([kKmMbBgGtT]?)", raw)
    try:
        if m is None:
            raise ValueError
        value = float(m.group(1)) * _SUFFIX.get(m.group(2).lower(), 1.0)
    except ValueError:
        raise MfuError(f"--model-params takes a parameter count such as 7e9 or 70B, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise MfuError(f"--model-params must be a positive parameter count, not {text!r}")
    if value > MAX_PARAMS:
        raise MfuError(f"--model-params {text!r} is over 1e14 parameters: no model is that large")
    return value


def model_flops_per_s(params: float, tokens_per_s: float, mode: str) -> float:
    if mode not in FLOPS_PER_TOKEN:
        raise MfuError(f"--mfu-mode is train or infer, not {mode!r}")
    return FLOPS_PER_TOKEN[mode] * params * tokens_per_s


def mfu_pct(params: float, tokens_per_s: float, mode: str, peak_tflops_total: float) -> float | None:
    """MFU in % of `peak_tflops_total` (the sum of the GPUs' dense BF16 peaks); None without a peak."""
    if peak_tflops_total <= 0 or tokens_per_s < 0:
        return None
    return 100.0 * model_flops_per_s(params, tokens_per_s, mode) / (peak_tflops_total * 1e12)


def matching(keys: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """Keys matching the first pattern that matches any (serving before probe: not both counted)."""
    keys = list(keys)
    for pattern in patterns:
        found = sorted(k for k in keys if fnmatch.fnmatchcase(k, pattern))
        if found:
            return found
    return []
