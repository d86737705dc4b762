"""compare as a CI gate (--fail-on-regression, --budgets), and the report's efficiency section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perftui.efficiency.mfu import MfuError, mfu_pct, parse_params
from perftui.efficiency.summary import EfficiencyOptions
from perftui.report.budgets import BudgetError, check_budgets, parse_budgets
from perftui.report.build import build_report
from perftui.report.compare import compare, regressions
from perftui.report.render_json import report_dict
from perftui.report.render_md import render_markdown
from perftui.store.reader import open_recording
from tests.efficiency.synth import write_run

ROOT = Path(__file__).resolve().parents[2]
H100 = ROOT / "tests" / "fixtures" / "gpu_h100"
PERFTUI = [sys.executable, "-m", "perftui"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PERFTUI, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_mfu_arithmetic_and_bad_params() -> None:
    assert parse_params("7B") == 7e9 and parse_params("70e9") == 70e9 and parse_params("1_000") == 1000
    # 7e9 params × 2 FLOPs × 10,000 tokens/s = 140 TFLOP/s of 989.4 -> 14.15 %
    assert mfu_pct(7e9, 10_000, "infer", 989.4) == pytest.approx(14.15, rel=1e-3)
    assert mfu_pct(7e9, 10_000, "train", 989.4) == pytest.approx(3 * 14.15, rel=1e-3)
    for bad in ("0", "-5", "1e15", "nan", "inf", "seven"):
        with pytest.raises(MfuError):
            parse_params(bad)


def test_report_efficiency_with_tokens_mfu_energy_cost(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r.sqlite", 2, tokens_per_s=10_000.0, tensor_pct=50.0, clock_mhz=1830.0)
    from perftui.core.cost import parse_price

    opts = EfficiencyOptions(model_params=7e9, mfu_mode="train", price=parse_price("2"))
    eff = build_report(open_recording(path), diagnose=False, efficiency=opts).efficiency
    assert eff is not None and len(eff.gpus) == 2
    assert eff.total_tflops == pytest.approx(989.4, rel=1e-3) and eff.flops_util_pct == pytest.approx(
        50.0, rel=1e-3
    )
    assert eff.mfu_pct == pytest.approx(6 * 7e9 * 10_000 / (2 * 989.4e12) * 100, rel=1e-6)
    assert eff.tokens_per_joule == pytest.approx(10_000 / 960.0)  # 2 × 480 W from the energy counter
    assert eff.energy_j == pytest.approx(2 * 480.0 * 19, rel=1e-6)  # 20 samples 1 s apart
    assert eff.cost_per_1k_tokens == pytest.approx(2 * 2 / 3600 / 10_000 * 1000)
    assert eff.cost_per_request == pytest.approx(2 * 2 / 3600 / 100)
    md = render_markdown(build_report(open_recording(path), diagnose=False, efficiency=opts))
    assert "MFU: 21 %" in md and "FLOPS utilization 50 %" in md and "Cost per 1K tokens" in md


def test_h100_report_json_names_units() -> None:
    data = report_dict(build_report(open_recording(H100 / "matmul_bf16.sqlite"), diagnose=False))
    (gpu,) = data["efficiency"]["gpus"]
    assert gpu["model"] == "H100 SXM" and set(gpu["tflops"]) == {"mean", "p50", "p95"}
    assert abs(gpu["tflops"]["mean"] / 674.0 - 1) < 0.15
    assert "FP16/BF16 dense" in data["efficiency"]["precision"]
    gpu_rows = {r["key"] for s in data["sources"] for r in s["rows"]}
    assert {"gpu.0.tflops", "gpu.0.flops_util_pct"} <= gpu_rows


def test_report_cli_bad_efficiency_options() -> None:
    rec = str(H100 / "matmul_bf16.sqlite")
    for args in (["--model-params", "0"], ["--model-params", "2e14"], ["--gpu-hour-cost", "free"]):
        r = _cli("report", rec, "--no-diagnosis", *args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr


def test_fail_on_regression(tmp_path: Path) -> None:
    fast = write_run(tmp_path / "fast.sqlite", 1, tokens_per_s=1000.0, tensor_pct=80.0)
    slow = write_run(tmp_path / "slow.sqlite", 1, tokens_per_s=700.0, tensor_pct=55.0)
    c = compare(open_recording(fast), open_recording(slow))
    keys = {m.key for m in regressions(c)}
    assert {"probe.tokens_per_s", "gpu.0.tflops", "gpu.0.flops_util_pct"} <= keys
    assert "efficiency.joules_per_token" in keys  # 500 W for 700 instead of 1000 tokens/s
    jpt = next(m for m in c.metrics if m.key == "efficiency.joules_per_token")
    assert jpt.base is not None and jpt.new is not None
    assert (jpt.base["p50"], jpt.new["p50"]) == pytest.approx((0.5, 500 / 700))
    assert not regressions(compare(open_recording(slow), open_recording(fast)))
    assert _cli("compare", str(fast), str(slow)).returncode == 0  # no gate asked
    r = _cli("compare", str(fast), str(slow), "--fail-on-regression")
    assert r.returncode == 1 and "regressed: probe.tokens_per_s" in r.stderr
    assert _cli("compare", str(slow), str(fast), "--fail-on-regression").returncode == 0
    js = _cli("compare", str(fast), str(slow), "--fail-on-regression", "--format", "json")
    assert "gpu.0.tflops" in json.loads(js.stdout)["gate"]["regressed"]


def test_budgets(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run.sqlite", 2, tokens_per_s=1000.0, tensor_pct=50.0, clock_mhz=1830.0)
    series = open_recording(run).series
    ok = parse_budgets('[[budget]]\nmetric = "probe.tokens_per_s"\nlimit = 900\ndirection = "higher"\n')
    assert all(r.ok for r in check_budgets(ok, series))
    broken = parse_budgets(
        '[[budget]]\nmetric = "probe.tokens_per_s"\nlimit = 1200\ndirection = "higher"\n'
        '[[budget]]\nmetric = "probe.ttft.p99_s"\nlimit = 0.5\ndirection = "lower"\n'
    )
    results = check_budgets(broken, series)
    assert [r.ok for r in results] == [False, False] and "not in the recording" in results[1].text
    budgets = tmp_path / "b.toml"
    budgets.write_text(
        '[[budget]]\nmetric = "gpu.*.tflops"\nlimit = 600\ndirection = "higher"\nstat = "p95"\n'
    )
    r = _cli("compare", str(run), str(run), "--budgets", str(budgets))
    assert r.returncode == 1 and r.stderr.count("budget broken: gpu.") == 2  # 494.7 TFLOP/s per GPU
    budgets.write_text('[[budget]]\nmetric = "gpu.*.tflops"\nlimit = 400\ndirection = "higher"\n')
    assert _cli("compare", str(run), str(run), "--budgets", str(budgets)).returncode == 0
    for bad in ("x =", '[[budget]]\nmetric = "a"\nlimit = "x"\ndirection = "lower"\n', "[other]\n"):
        with pytest.raises(BudgetError):
            parse_budgets(bad)
        budgets.write_text(bad)
        r = _cli("compare", str(run), str(run), "--budgets", str(budgets))
        assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = _cli("compare", str(run), str(run), "--budgets", str(tmp_path / "missing.toml"))
    assert r.returncode == 2 and "cannot read budgets file" in r.stderr
