"""The Sampler protocol and the counter-to-rate helper every source shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from perftui.core.types import SourceStatus

Values = dict[str, float | None]


@runtime_checkable
class Sampler(Protocol):
    """One source. `sample()` returns plain values for its metric keys.

    Counters become rates inside the sampler: on the first tick a rate key
    is absent (never a fake 0). `availability()` is cheap and stable: a source
    that cannot work says why once.
    """

    name: str
    interval: float

    def availability(self) -> SourceStatus: ...

    def sample(self) -> Values: ...

    def details(self) -> Mapping[str, Any]:
        """Structured facts for the store (`set_detail`), refreshed after each sample."""
        ...

    def close(self) -> None: ...


class BaseSampler:
    """Defaults for the optional parts of the protocol."""

    name: str = "base"
    interval: float = 1.0
    # samplers naming the same group run one after another in one thread (SamplerRunner);
    # None: a thread of its own. Only for samplers whose sample() cannot block.
    thread_group: str | None = None
    # True: nothing of its first tick is on the screen (it only primes counters), so a runner told to
    # hold such samplers (the dashboard's, until its first frame is out) starts them then
    after_first_frame: bool = False

    def availability(self) -> SourceStatus:
        return SourceStatus.ok()

    def sample(self) -> Values:  # pragma: no cover - abstract
        raise NotImplementedError

    def details(self) -> Mapping[str, Any]:
        return {}

    def close(self) -> None:
        return None


class UnavailableSampler(BaseSampler):
    """A source that cannot run on this machine, found out before its modules were loaded (the GPU
    source without an NVIDIA driver): its status, with the reason, is all it publishes."""

    def __init__(self, name: str, reason: str, interval: float = 1.0) -> None:
        self.name = name
        self.interval = interval
        self._status = SourceStatus.unavailable(reason)

    def availability(self) -> SourceStatus:
        return self._status

    def sample(self) -> Values:
        return {}


class RateTracker:
    """Turns monotonically increasing counters into per-second rates.

    - first observation of a key: no rate (None);
    - counter went backwards: if `wrap` is given (the counter's modulus, e.g.
      2**32) it is treated as a wrap when the wrapped delta is plausible,
      otherwise as a reset: no rate this tick, the new value is the baseline;
      `never_resets` says the counter only wraps, so every backward step is one wrap;
    - non-positive elapsed time: no rate.
    """

    def __init__(self) -> None:
        self._prev: dict[str, tuple[float, float]] = {}

    def rate(
        self,
        key: str,
        value: float,
        ts: float,
        *,
        wrap: float | None = None,
        scale: float = 1.0,
        never_resets: bool = False,
    ) -> float | None:
        prev = self._prev.get(key)
        self._prev[key] = (ts, value)
        if prev is None:
            return None
        pts, pval = prev
        dt = ts - pts
        if dt <= 0:
            return None
        delta = value - pval
        if delta < 0:
            if wrap is None:
                return None
            wrapped = value + wrap - pval
            # A wrap can only be told from a reset when the old value sat in
            # the top half of the counter's range.
            if wrapped < 0 or (pval < wrap / 2 and not never_resets):
                return None
            delta = wrapped
        return delta * scale / dt

    def seed(self, key: str, value: float, ts: float) -> None:
        """Take `value` at `ts` as the key's previous reading (read elsewhere, e.g. while ranking)."""
        self._prev[key] = (ts, value)

    def forget(self, prefix: str = "") -> None:
        for key in [k for k in self._prev if k.startswith(prefix)]:
            del self._prev[key]


class Deltas:
    """A counter's increase since the previous read (a count, not a rate): first read or a reset
    (counter went back, e.g. a recreated cgroup of the same name) gives None, never a fake 0."""

    def __init__(self) -> None:
        self._prev: dict[str, float] = {}

    def seed(self, key: str, value: float) -> None:
        self._prev[key] = value

    def delta(self, key: str, value: float) -> float | None:
        prev = self._prev.get(key)
        self._prev[key] = value
        if prev is None or value < prev:
            return None
        return value - prev
