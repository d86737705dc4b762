"""perftui metric keys → Prometheus metric names, labels and the scale to base units (pure).

`gpu.3.power_w` → `perftui_gpu_power_watts{gpu="3"}`; a key pattern's `*` becomes a label named for
its source (`gpu`, `core`, `device`, `port`, `server`); percentages become ratios (÷ 100), MHz
become hertz, TFLOP/s become FLOP/s; latency quantile keys (`….p99_s`) become one family with a
`percentile` label. Keys with no spec (a serving source this build does not know) are named from
their suffix the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from perftui.core.specs import spec_for
from perftui.core.units import Unit

PREFIX = "perftui_"

# the part of a key before its wildcard -> the label that carries the wildcard's value
_WILDCARD_LABEL: dict[str, str] = {
    "gpu.": "gpu",
    "cpu.core.": "core",
    "disk.": "device",
    "net.": "device",
    "ib.": "port",
    "proc.gpu.": "gpu",
    "serve.": "server",
}
# names that would clash with an unlabelled metric of the same name (`proc.gpu_mem_bytes`)
_RENAME_PREFIX: dict[str, str] = {"proc.gpu.": "proc.per_gpu."}

_QUANTILE = re.compile(r"^p(50|90|95|99|999)_s$")
# unit -> (key suffixes it strips, Prometheus suffix, scale)
_UNIT_SUFFIX: dict[Unit, tuple[tuple[str, ...], str, float]] = {
    Unit.PERCENT: (("_pct",), "ratio", 0.01),
    Unit.RATIO: ((), "ratio", 1.0),
    Unit.BYTES: (("_bytes",), "bytes", 1.0),
    Unit.BYTES_PER_S: (("_bytes_per_s",), "bytes_per_second", 1.0),
    Unit.PER_S: (("_per_s",), "per_second", 1.0),
    Unit.WATTS: (("_w",), "watts", 1.0),
    Unit.JOULES: (("_j",), "joules", 1.0),
    Unit.CELSIUS: (("_c",), "celsius", 1.0),
    Unit.MHZ: (("_mhz",), "hertz", 1e6),
    Unit.SECONDS: (("_s",), "seconds", 1.0),
    Unit.TFLOPS: (("tflops",), "flops_per_second", 1e12),
    Unit.COUNT: ((), "", 1.0),
    Unit.FLAGS: ((), "", 1.0),
}
# a key with no spec: its unit from its suffix (longest first)
_SUFFIX_UNIT: tuple[tuple[str, Unit], ...] = (
    ("_bytes_per_s", Unit.BYTES_PER_S),
    ("_per_s", Unit.PER_S),
    ("_bytes", Unit.BYTES),
    ("_pct", Unit.PERCENT),
    ("_s", Unit.SECONDS),
    ("_w", Unit.WATTS),
    ("_mhz", Unit.MHZ),
)


@dataclass(frozen=True)
class PromName:
    name: str  # full Prometheus metric name
    labels: tuple[tuple[str, str], ...]  # (label, value) from the key itself
    scale: float  # multiply the stored value by this
    unit: str  # the Prometheus unit suffix ("" when none)
    help: str


def _unit_of(key: str) -> tuple[Unit, str, str]:
    """(unit, pattern, description) of a key, from its spec or its suffix."""
    spec = spec_for(key)
    if spec is not None:
        return spec.unit, spec.pattern, spec.description
    last = key.rsplit(".", 1)[-1]
    for suffix, unit in _SUFFIX_UNIT:
        if last.endswith(suffix):
            return unit, "", ""
    return Unit.COUNT, "", ""


def _sanitize(text: str) -> str:
    out = re.sub(r"[^a-zA-Z0-9_]+", "_", text).strip("_").lower()
    return out or "value"


def _with_unit(base: str, unit: Unit) -> tuple[str, str, float]:
    strip, suffix, scale = _UNIT_SUFFIX.get(unit, ((), "", 1.0))
    for s in strip:
        if base.endswith(s) and len(base) > len(s):
            base = base[: -len(s)].rstrip("_")
            break
    base = re.sub(r"(^|_)iops$", r"\1ops", base) if unit is Unit.PER_S else base
    if suffix and not base.endswith(suffix) and suffix not in base.split("_"):
        base = f"{base}_{suffix}"
    return base, suffix, scale


@lru_cache(maxsize=8192)
def prom_name(key: str) -> PromName:
    """The Prometheus name of one perftui key (cached: the key set of a box is bounded)."""
    unit, pattern, desc = _unit_of(key)
    labels: list[tuple[str, str]] = []
    body = key
    if "*" in pattern:
        head, _, tail = pattern.partition("*")
        value = key[len(head) : len(key) - len(tail)]
        labels.append((_WILDCARD_LABEL.get(head, "id"), value))
        head = _RENAME_PREFIX.get(head, head)
        body = head.rstrip(".") + tail
    elif not pattern and key.startswith("serve.") and key.count(".") >= 2:
        _, sid, rest = key.split(".", 2)
        labels.append(("server", sid))
        body = "serve." + rest
    last = body.rsplit(".", 1)
    if len(last) == 2 and _QUANTILE.match(last[1]):
        q = _QUANTILE.match(last[1])
        assert q is not None
        digits = q.group(1)
        labels.append(("percentile", "99.9" if digits == "999" else digits))
        body = last[0] + "_s"
        unit = Unit.SECONDS
    base, suffix, scale = _with_unit(_sanitize(body.replace(".", "_")), unit)
    help_text = desc or f"perftui metric {body}"
    if unit is Unit.PERCENT:
        help_text += " (ratio 0-1)"
    return PromName(PREFIX + base, tuple(labels), scale, suffix, help_text)
