"""The bounds of the sampling interval and the history window, and the steps the dashboard keys take.

One place for them: the config file, the CLI flags, the sampler runner and the dashboard all
read these (no Textual, no psutil here).
"""

from __future__ import annotations

MIN_INTERVAL = 0.05  # seconds between samples
MAX_INTERVAL = 60.0
DEFAULT_INTERVAL = 1.0
# + and - in the dashboard: the CLI's whole range, MIN_INTERVAL to MAX_INTERVAL
INTERVAL_STEPS = (MIN_INTERVAL, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, MAX_INTERVAL)

MIN_WINDOW = 10.0  # seconds of sparkline history
MAX_WINDOW = 900.0  # the longest window: the rings hold this much at the interval
DEFAULT_WINDOW = 60.0
WINDOW_STEPS = (60.0, 300.0, 900.0)  # w in the dashboard

MAX_RENDER_HZ = 4.0  # the dashboard redraws at most this often, whatever the interval


def next_step(values: tuple[float, ...], current: float, step: int) -> float:
    """The next value of `values` above (`step` > 0) or below `current`.

    Never a move against `step`: past the last value (or before the first) it is `current` itself,
    so a caller can tell the user the limit is reached (`at_limit`)."""
    if step > 0:
        bigger = [v for v in values if v > current + 1e-9]
        return bigger[0] if bigger else current
    smaller = [v for v in values if v < current - 1e-9]
    return smaller[-1] if smaller else current


def at_limit(values: tuple[float, ...], current: float, step: int) -> bool:
    """True when `next_step` has nowhere to go in that direction."""
    return abs(next_step(values, current, step) - current) <= 1e-9


def interval_error(seconds: float, flag: str = "--interval") -> str | None:
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        return f"{flag} must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} seconds"
    return None


def window_error(seconds: float, flag: str = "--window") -> str | None:
    if not MIN_WINDOW <= seconds <= MAX_WINDOW:
        return f"{flag} must be between {MIN_WINDOW:g} and {MAX_WINDOW:g} seconds"
    return None
