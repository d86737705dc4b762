"""Pure parts of the dashboard: sparkline bucketing, row packing, change spans, panel builders."""

from __future__ import annotations

import random

import numpy as np

from perftui.core.types import SourceStatus
from perftui.store.metric_store import MetricStore
from perftui.ui import panels
from perftui.ui.panels import ViewCtx, used_of
from perftui.ui.rows import Line, Row, layout_lines, line_text, one_line
from perftui.ui.sparkline import BLOCKS, aligned_end, bucket_max, sparkline, strip_chars
from perftui.ui.widgets.metric_panel import changed_span
from tests.ui.fakes import T0, fill_store


def arr(*v: float) -> np.ndarray:  # type: ignore[type-arg]
    return np.array(v, dtype=np.float64)


def test_sparkline_scales_to_natural_max_and_is_exactly_width() -> None:
    ts = arr(1, 2, 3, 4)
    s = sparkline(ts, arr(0, 50, 100, 25), end=4, window=4, width=4, hi=100, align=False)
    assert s == BLOCKS[0] + BLOCKS[4] + BLOCKS[7] + BLOCKS[2]
    assert len(sparkline(ts, arr(1, 2, 3, 4), end=4, window=4, width=37)) == 37


def test_bucket_keeps_the_peak_of_each_column() -> None:
    ts = np.arange(1, 9, dtype=np.float64)  # 8 samples into 2 columns
    out = bucket_max(ts, arr(1, 9, 2, 3, 4, 5, 7, 6), end=8, window=8, width=2)
    assert out == [9.0, 7.0]


def test_missing_data_is_blank_never_a_fake_zero() -> None:
    assert sparkline(arr(), arr(), end=10, window=10, width=5) == "     "
    # a source that stopped 6 s ago: the columns after its last sample stay blank
    s = sparkline(arr(1, 2, 3, 4), arr(5, 5, 5, 5), end=10, window=10, width=10, gap=2.5, align=False)
    assert s[:4].strip() and s[5:] == "     "
    # NaN values are skipped
    assert sparkline(arr(1, 2), arr(np.nan, np.nan), end=2, window=2, width=2) == "  "


def test_short_gaps_are_carried_forward() -> None:
    ts = arr(1, 3, 5, 7, 9)  # 2 s sampling shown on 1 s columns
    s = sparkline(ts, arr(1, 1, 1, 1, 1), end=10, window=10, width=10, hi=1, gap=5, align=False)
    assert " " not in s[1:9]


def test_aligned_columns_do_not_shift_within_a_column() -> None:
    # 60 s over 20 columns = 3 s per column: ends 61 and 62 align to the same boundary
    assert aligned_end(61.0, 60, 20) == aligned_end(62.0, 60, 20) == 63.0
    ts = np.arange(0, 63, dtype=np.float64)
    vals = ts % 7
    a = sparkline(ts[:62], vals[:62], end=61.0, window=60, width=20, hi=10)
    b = sparkline(ts[:63], vals[:63], end=62.0, window=60, width=20, hi=10)
    assert a[:-1] == b[:-1]  # only the newest column may change


def test_per_core_strip() -> None:
    assert strip_chars([0, 100, None, 50]) == BLOCKS[0] + BLOCKS[7] + " " + BLOCKS[4]


def _spark(row: Row, width: int) -> str:
    return "x" * width


def test_layout_fills_width_and_packs_when_short_of_lines() -> None:
    rows = [Row(f"r{i}", key=f"k{i}", value=f"{i} %") for i in range(6)]
    lines = layout_lines(rows, [], 80, 10, _spark)
    assert len(lines) == 6 and all(len(line_text(ln)) == 80 for ln in lines)
    packed = layout_lines(rows, [], 80, 3, _spark)
    assert len(packed) == 3 and all(len(line_text(ln)) == 80 for ln in packed)
    assert "r1" in line_text(packed[0]) and "r0" in line_text(packed[0])
    # too narrow to pack: the rest is announced, not silently dropped
    narrow = layout_lines(rows, [], 40, 3, _spark)
    assert "+4 more" in line_text(narrow[-1])
    # one line for many rows (80x24 with a GPU): the first row's value and the count, never only "+N more"
    (single,) = layout_lines(rows, [], 38, 1, _spark)
    text = line_text(single)
    assert len(text) == 38 and text.startswith("r0") and "0 %" in text and text.endswith(" +5")


def test_few_colour_runs_per_line() -> None:
    rows = [Row("CPU", key="cpu.util", value="38 %")]
    (line,) = layout_lines(rows, [], 60, 1, _spark)
    assert len(line) <= 4  # label, value, gap, sparkline: one segment each


def test_notices_wrap_and_take_the_panel_when_there_is_no_data() -> None:
    reason = "no NVIDIA driver (libnvidia-ml.so.1 not found) " * 3
    lines = layout_lines([], [(reason, "bad")], 30, 5, _spark)
    assert 2 <= len(lines) <= 5 and all(len(line_text(ln)) == 30 for ln in lines)


def test_one_line_summary() -> None:
    line = one_line(Row("GPU0", key="k", value="76 %"), "mem 38 %  308 W  63 °C", 60, _spark)
    text = line_text(line)
    assert len(text) == 60 and text.startswith("GPU0") and "308 W" in text


def test_changed_span_covers_only_the_difference() -> None:
    old = (("CPU   ", "label"), ("38 %", "value"), (" ", "label"), ("abcd", "spark"))
    new = (("CPU   ", "label"), ("39 %", "value"), (" ", "label"), ("abce", "spark"))
    assert changed_span(old, new) == (7, 15)
    assert changed_span(old, old) is None
    assert changed_span(None, new) == (0, 15)


def test_used_of() -> None:
    assert used_of("30.4 GiB", "80.0 GiB") == "30.4/80.0 GiB"
    assert used_of("900 MiB", "80.0 GiB") == "900 MiB/80.0 GiB"


def test_panel_builders_read_the_store() -> None:
    store = MetricStore()
    end = fill_store(store, 2)
    ctx = ViewCtx(now=end + 0.5, window=60, interval=1.0)
    assert panels.gpu_indices(store) == [0, 1]
    cpu = panels.cpu_content(store, ctx)
    assert [r.label for r in cpu.rows][:2] == ["CPU", "busiest"]  # the busiest core, said so
    assert len(cpu.bars) == 8  # per-core values for the bars
    gpu = panels.gpu_content(store, ctx, i=0)
    assert gpu.subtitle == "GPM counters" and gpu.summary is not None
    assert {"util", "SM act", "tensor", "DRAM BW", "mem", "power", "temp", "clocks"} <= {
        r.label for r in gpu.rows
    }
    store.set_detail("gpu.1.tier", "lost")
    store.set_detail("gpu.1.tier_reason", "GPU fell off the bus (XID 79)")
    lost = panels.gpu_content(store, ctx, i=1)
    assert lost.rows == [] and "XID 79" in lost.notices[0][0]
    store.set_status("disk", SourceStatus.unavailable("no /proc/diskstats"))
    assert ("disk: no /proc/diskstats", "bad") in panels.disk_content(store, ctx).notices
    late = ViewCtx(now=end + 30, window=60, interval=1.0)
    assert any("stale (last sample 30 s ago)" in t for t, _ in panels.net_content(store, late).notices)
    assert end > T0


def _reference_span(old: Line | None, new: Line) -> tuple[int, int] | None:
    """The first and last differing cell of the joined texts; the whole line if roles moved."""
    a, b = ("" if old is None else line_text(old)), line_text(new)
    if old is None or [(len(t), r) for t, r in old] != [(len(t), r) for t, r in new]:
        return None if old == new else (0, len(b))
    diff = [i for i in range(len(b)) if a[i] != b[i]]
    return (diff[0], diff[-1] + 1) if diff else None


def test_changed_span_equals_a_cell_by_cell_comparison() -> None:
    rng = random.Random(5)
    chars = "ab▁▂█ "
    for _ in range(2000):
        widths = [rng.randint(1, 6) for _ in range(rng.randint(1, 4))]
        roles = [rng.choice(["label", "value", "spark"]) for _ in widths]
        old: Line = tuple(
            ("".join(rng.choice(chars) for _ in range(w)), r) for w, r in zip(widths, roles, strict=True)
        )
        mutated = [("".join(c if rng.random() < 0.7 else rng.choice(chars) for c in t), r) for t, r in old]
        new: Line = tuple((t, r if rng.random() < 0.95 else "dim") for t, r in mutated)
        assert changed_span(old, new) == _reference_span(old, new), (old, new)
