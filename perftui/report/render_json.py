"""JSON rendering: the same content as the other formats, raw SI numbers, for machines."""

from __future__ import annotations

import json
import math
from typing import Any

from perftui.report.model import Report

REPORT_FORMAT = "perftui-report"
REPORT_VERSION = 1


def _clean(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def report_dict(report: Report) -> dict[str, Any]:
    return {"format": REPORT_FORMAT, "version": REPORT_VERSION, **_clean(report.as_dict())}


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
