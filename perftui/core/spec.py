"""MetricSpec: what one metric key (or key pattern) means.

Kept apart from the registry so the per-source spec tables can import it
without an import cycle.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from typing import NamedTuple

from perftui.core.units import Unit, format_value


class MetricSpec(NamedTuple):
    """What a metric key (or key pattern) measures: its unit, description and scale."""

    pattern: str
    unit: Unit
    description: str
    is_rate: bool = False
    natural_max: float | None = None
    label: str = ""
    source: str = ""

    def matches(self, key: str) -> bool:
        return _compiled(self.pattern).fullmatch(key) is not None

    def format(self, value: float | None) -> str:
        return format_value(value, self.unit)

    @property
    def short_label(self) -> str:
        return self.label or self.pattern.rsplit(".", 1)[-1]


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))
