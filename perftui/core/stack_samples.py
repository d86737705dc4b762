"""How much a stack share rests on: the sample count behind `stack.share.*` and its margin.

One wording for the stacks pane and the diagnosis, so that both quote the same count
(`stack.samples`, the thread samples in the sampler's window) and the same hint when it is low.
At 2 samples/s a lone thread has 40 samples in a 20 s window: a share near 50 % is then known to
about +-15 points (95 %), which is why the shares seemed to swing 75/25 -> 58/32 between refreshes.
The margin treats samples as independent: the threads of one process sampled at the same instant
are not quite, so it is a floor, not a promise.
"""

from __future__ import annotations

import math

ENOUGH_SAMPLES = 100  # a share near 50 % known to +-10 points (95 %); fewer: the hint says so


def share_margin(samples: float) -> float:
    """Half-width, in percentage points, of the 95 % interval of a share near 50 % (the widest)."""
    if samples <= 0:
        return 100.0
    return min(100.0, 100.0 * 1.96 * math.sqrt(0.25 / samples))


def samples_count(samples: float) -> str:
    """The count as the pane and the diagnosis quote it."""
    return f"{samples:.0f}"


def samples_hint(samples: float) -> str:
    """ "" with enough samples, else "few: shares ±15 %"."""
    if samples >= ENOUGH_SAMPLES:
        return ""
    return f"few: shares ±{share_margin(samples):.0f} %"


def samples_phrase(samples: float) -> str:
    """ "40 stack samples, few: shares ±15 %" or "160 stack samples"."""
    hint = samples_hint(samples)
    return f"{samples_count(samples)} stack samples" + (f", {hint}" if hint else "")
