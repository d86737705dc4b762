"""Every registered metric gets a valid, unique Prometheus name in base units, and the fleet source
maps each name back to the same perftui key."""

from __future__ import annotations

import re

import pytest

from perftui.core.spec import MetricSpec
from perftui.core.specs import REGISTRY
from perftui.exporter.names import prom_name
from perftui.fleet.prometheus_source import perftui_key

VALID = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SPECS = [s for s in REGISTRY.all() if s.pattern.count("*") <= 1]


def _key(pattern: str) -> str:
    return pattern.replace("*", "7")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.pattern)
def test_name_is_valid_and_round_trips(spec: MetricSpec) -> None:
    key = _key(spec.pattern)
    pn = prom_name(key)
    assert VALID.match(pn.name) and pn.name.startswith("perftui_"), pn
    assert not re.search(r"_(pct|mhz|w|c|s|tflops)$", pn.name), pn.name  # units are base units
    assert all(VALID.match(label) for label, _ in pn.labels)
    labels = {"__name__": pn.name, **dict(pn.labels)}
    assert perftui_key(labels) == (key, pn.scale)


def test_names_do_not_collide_across_label_sets() -> None:
    seen: dict[str, tuple[str, ...]] = {}
    for spec in SPECS:
        pn = prom_name(_key(spec.pattern))
        names = tuple(n for n, _ in pn.labels)
        assert seen.setdefault(pn.name, names) == names, (spec.pattern, pn.name)


def test_units_convert_to_base_units() -> None:
    assert prom_name("gpu.0.util").scale == 0.01 and prom_name("gpu.0.util").name == "perftui_gpu_util_ratio"
    assert prom_name("gpu.0.sm_clock_mhz").name == "perftui_gpu_sm_clock_hertz"
    assert prom_name("gpu.0.sm_clock_mhz").scale == 1e6
    assert prom_name("gpu.0.power_w").name == "perftui_gpu_power_watts"
    assert prom_name("gpu.0.temp_c").name == "perftui_gpu_temp_celsius"
    assert prom_name("disk.sda.await_s").name == "perftui_disk_await_seconds"
    assert prom_name("net.eth0.100.rx_bytes_per_s").labels == (("device", "eth0.100"),)
    assert prom_name("proc.gpu.0.mem_bytes").name != prom_name("proc.gpu_mem_bytes").name
