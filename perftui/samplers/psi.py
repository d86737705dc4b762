"""Pressure stall information: /proc/pressure/{cpu,io,memory}.

For each resource and kind (`some`, `full`): the kernel's avg10 (%) and the
share of the last tick spent stalled, from the `total` counter (µs stalled
per µs elapsed × 100). System-wide `cpu full` is undefined: kernels since
5.13 print it as a constant 0 for compatibility, so it is not emitted.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Values
from perftui.samplers.procfs import ULONG_MODULUS, join, read_text

RESOURCES = ("cpu", "io", "memory")
KINDS = ("some", "full")
# µs stalled per second elapsed -> percent of the time.
_US_TO_PCT = 100.0 / 1e6
NO_PSI_REASON = "no /proc/pressure (kernel without PSI, or psi=0 on the kernel command line)"


def parse_pressure(text: str) -> dict[str, dict[str, float]]:
    """`some avg10=0.00 avg60=0.00 avg300=0.00 total=0` lines -> {kind: {field: value}}."""
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in KINDS:
            continue
        fields: dict[str, float] = {}
        for item in parts[1:]:
            name, sep, raw = item.partition("=")
            if not sep:
                continue
            try:
                fields[name] = float(raw)
            except ValueError:
                continue
        out[parts[0]] = fields
    return out


class PsiSampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        proc_root: str = "/proc",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "psi"
        self.interval = interval
        self._dir = join(proc_root, "pressure")
        self._clock = clock
        self._rates = RateTracker()
        self._status: SourceStatus | None = None
        self._missing: list[str] = []

    def availability(self) -> SourceStatus:
        if self._status is None:
            self._status = self._probe()
        return self._status

    def _probe(self) -> SourceStatus:
        if not os.path.isdir(self._dir):
            return SourceStatus.unavailable(NO_PSI_REASON)
        readable = 0
        for res in RESOURCES:
            try:
                text = read_text(join(self._dir, res))
            except PermissionError:
                return SourceStatus.unavailable(f"no permission to read {self._dir}/{res}")
            except OSError as exc:
                if exc.errno == errno.EOPNOTSUPP:
                    return SourceStatus.unavailable(
                        f"{self._dir} exists but PSI is disabled (boot with psi=1 to enable it)"
                    )
                return SourceStatus.unavailable(f"cannot read {self._dir}/{res}: {exc.strerror or exc}")
            if text is not None:
                readable += 1
        if readable == 0:
            return SourceStatus.unavailable(f"{self._dir} has no cpu, io or memory file")
        return SourceStatus.ok()

    def sample(self) -> Values:
        now = self._clock()
        out: Values = {}
        missing: list[str] = []
        for res in RESOURCES:
            try:
                text = read_text(join(self._dir, res))
            except OSError:
                text = None
            if text is None:
                missing.append(res)
                continue
            parsed = parse_pressure(text)
            for kind in KINDS:
                if res == "cpu" and kind == "full":
                    continue
                fields = parsed.get(kind)
                if fields is None:
                    continue
                avg10 = fields.get("avg10")
                if avg10 is not None:
                    out[f"psi.{res}.{kind}10"] = avg10
                total = fields.get("total")
                if total is not None:
                    r = self._rates.rate(f"{res}.{kind}", total, now, wrap=ULONG_MODULUS, scale=_US_TO_PCT)
                    # Kernel accounting and our clock are not read at the same
                    # instant: a full-stall tick can read a hair above 100 %.
                    out[f"psi.{res}.{kind}_rate"] = None if r is None else min(100.0, r)
        self._missing = missing
        return out

    def details(self) -> Mapping[str, Any]:
        return {
            "psi.note": "system-wide cpu 'full' is undefined (the kernel reports a constant 0); not shown",
            "psi.missing": list(self._missing),
        }
