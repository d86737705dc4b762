"""The one typed registry of metric specs.

Every consumer (panels, report, recorder, exporter, diagnosis) asks this
registry what a key means. Keys are dotted (`disk.nvme0n1.read_bytes_per_s`);
a spec's pattern uses `*` for the variable part (`disk.*.read_bytes_per_s`).
A `*` may match a name containing dots (a VLAN NIC like `eth0.100`).
"""

from __future__ import annotations

from collections.abc import Iterable

from perftui.core import specs_cgroup, specs_gpu, specs_host, specs_probe, specs_proc, specs_serving
from perftui.core.spec import MetricSpec
from perftui.core.units import Unit, format_value

__all__ = ["REGISTRY", "MetricSpec", "SpecRegistry", "spec_for"]


class SpecRegistry:
    """Exact patterns first, then wildcard patterns in registration order."""

    def __init__(self, specs: Iterable[MetricSpec] = ()) -> None:
        self._exact: dict[str, MetricSpec] = {}
        self._wild: list[MetricSpec] = []
        self._cache: dict[str, MetricSpec | None] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: MetricSpec) -> None:
        if "*" in spec.pattern:
            if any(s.pattern == spec.pattern for s in self._wild):
                raise ValueError(f"duplicate metric spec {spec.pattern!r}")
            self._wild.append(spec)
        else:
            if spec.pattern in self._exact:
                raise ValueError(f"duplicate metric spec {spec.pattern!r}")
            self._exact[spec.pattern] = spec
        self._cache.clear()

    def get(self, key: str) -> MetricSpec | None:
        try:
            return self._cache[key]
        except KeyError:
            pass
        spec = self._exact.get(key)
        if spec is None:
            # The most specific wildcard wins: fewest `*` then longest pattern.
            candidates = [s for s in self._wild if s.matches(key)]
            if candidates:
                spec = min(candidates, key=lambda s: (s.pattern.count("*"), -len(s.pattern)))
        self._cache[key] = spec
        return spec

    def unit(self, key: str) -> Unit:
        spec = self.get(key)
        return spec.unit if spec else Unit.COUNT

    def format(self, key: str, value: float | None) -> str:
        return format_value(value, self.unit(key))

    def all(self) -> list[MetricSpec]:
        return [*self._exact.values(), *self._wild]


def _build() -> SpecRegistry:

    return SpecRegistry(
        [
            *specs_host.SPECS,
            *specs_gpu.SPECS,
            *specs_proc.SPECS,
            *specs_cgroup.SPECS,
            *specs_serving.SPECS,
            *specs_probe.SPECS,
        ]
    )


REGISTRY = _build()


def spec_for(key: str) -> MetricSpec | None:
    return REGISTRY.get(key)
