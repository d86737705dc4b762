"""`perftui scaling` over synthetic runs at 1, 2, 4 and 8 GPUs: perfect, linear loss, a slower run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perftui.efficiency.scaling import run_facts, scaling_table
from perftui.store.reader import open_recording
from tests.efficiency.synth import write_run

PERFTUI = [sys.executable, "-m", "perftui"]
COUNTS = (1, 2, 4, 8)


def _facts(paths: list[Path], metric: str | None = None):  # type: ignore[no-untyped-def]
    out = []
    for p in paths:
        rec = open_recording(p)
        out.append(run_facts(p.name, rec.series, rec.meta, rec.details_at(), metric))
    return out


def _runs(tmp_path: Path, tokens: dict[int, float], **kw) -> list[Path]:  # type: ignore[no-untyped-def]
    return [write_run(tmp_path / f"run{n}.sqlite", n, tokens_per_s=tokens[n], **kw) for n in COUNTS]


def test_perfect_scaling(tmp_path: Path) -> None:
    table = scaling_table(_facts(_runs(tmp_path, {n: 1000.0 * n for n in COUNTS})))
    assert [r.run.gpus for r in table.rows] == list(COUNTS)
    assert [r.efficiency_pct for r in table.rows] == pytest.approx([100.0] * 4)
    assert [r.per_gpu for r in table.rows] == pytest.approx([1000.0] * 4)
    assert table.metric == "probe.tokens_per_s" and not table.warnings


def test_linear_loss_and_a_run_that_got_slower(tmp_path: Path) -> None:
    lossy = {1: 1000.0, 2: 1900.0, 4: 3600.0, 8: 6400.0}
    table = scaling_table(_facts(_runs(tmp_path, lossy)))
    assert [r.efficiency_pct for r in table.rows] == pytest.approx([100.0, 95.0, 90.0, 80.0])
    assert [r.speedup for r in table.rows] == pytest.approx([1.0, 1.9, 3.6, 6.4])
    slower = {1: 1000.0, 2: 1900.0, 4: 3600.0, 8: 900.0}  # 8 GPUs slower than 1
    (tmp_path / "s").mkdir()
    table = scaling_table(_facts(_runs(tmp_path / "s", slower)))
    last = table.rows[-1]
    assert last.speedup == pytest.approx(0.9) and last.efficiency_pct == pytest.approx(100 * 0.9 / 8)


def test_weak_scaling_with_a_step_time(tmp_path: Path) -> None:
    step = {1: 1.0, 2: 1.1, 4: 1.25, 8: 2.0}
    paths = [write_run(tmp_path / f"w{n}.sqlite", n, extra={"train.step_time_s": step[n]}) for n in COUNTS]
    weak = scaling_table(
        _facts(paths, "train.step_time_s"), "weak", "train.step_time_s", lower_is_better=True
    )
    assert [r.efficiency_pct for r in weak.rows] == pytest.approx([100.0, 100 / 1.1, 80.0, 50.0])
    strong = scaling_table(_facts(paths, "train.step_time_s"), "strong", "train.step_time_s", True)
    assert strong.rows[1].efficiency_pct == pytest.approx(100 / 1.1 / 2)


def test_without_throughput_metric_sums_achieved_tflops(tmp_path: Path) -> None:
    paths = [write_run(tmp_path / f"t{n}.sqlite", n, tensor_pct=50.0, clock_mhz=1830.0) for n in (1, 2)]
    table = scaling_table(_facts(paths))
    assert "achieved TFLOP/s summed over GPUs" in table.metric
    assert table.rows[0].run.throughput == pytest.approx(989.4 / 2, rel=1e-3)
    assert table.rows[1].efficiency_pct == pytest.approx(100.0)


def test_overhead_columns_and_warnings(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a.sqlite", 1, tokens_per_s=100.0, collective_pct=2.0, sm_active=95.0)
    b = write_run(
        tmp_path / "b.sqlite", 2, tokens_per_s=150.0, collective_pct=30.0, sm_active=60.0,
        nvlink_bytes_per_s=5e9, host="gpu-node-2", script="other.py",
    )  # fmt: skip
    table = scaling_table(_facts([a, b]))
    one, two = table.rows
    assert one.run.collective_pct == pytest.approx(2.0) and two.run.collective_pct == pytest.approx(30.0)
    assert one.run.nvlink_busy_pct == 0.0 and two.run.nvlink_busy_pct == 100.0
    assert two.run.gpu_idle_pct == pytest.approx(40.0)
    text = " ".join(table.warnings)
    assert "hosts: gpu-node-1; gpu-node-2" in text and "other.py; train.py" in text


def test_cli_markdown_json_and_bad_input(tmp_path: Path) -> None:
    paths = [str(p) for p in _runs(tmp_path, {n: 1000.0 * n for n in COUNTS})]
    md = subprocess.run([*PERFTUI, "scaling", *paths], capture_output=True, text=True, timeout=120)
    assert md.returncode == 0, md.stderr
    assert "| run8.sqlite | 8 | 8.0k | 1.0k | 8.00× | 100 % |" in md.stdout
    js = subprocess.run([*PERFTUI, "scaling", "--format", "json", "--mode", "weak", *paths],
                        capture_output=True, text=True, timeout=120)  # fmt: skip
    data = json.loads(js.stdout)
    assert data["format"] == "perftui-scaling" and data["mode"] == "weak" and len(data["rows"]) == 4
    one = subprocess.run([*PERFTUI, "scaling", paths[0]], capture_output=True, text=True, timeout=60)
    assert one.returncode == 2 and one.stderr.count("\n") == 1 and "two or more" in one.stderr
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a recording")
    r = subprocess.run([*PERFTUI, "scaling", paths[0], str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_stack_samples_without_collectives_read_zero(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
    facts = _facts([root / "base.sqlite", root / "new.sqlite"], "nope.x")
    assert [f.collective_pct for f in facts] == [0.0, 0.0]
    assert all(f.throughput is None and "not in this recording" in f.throughput_from for f in facts)
