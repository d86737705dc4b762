"""MFU beyond `report`: `compare` and `scaling` take --model-params/--mfu-mode and show each run's MFU
next to its FLOPS utilization, computed by the report's own efficiency section (one arithmetic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perftui.cli import main
from perftui.efficiency.summary import EfficiencyOptions
from perftui.report.build import build_report
from perftui.store.reader import open_recording
from tests.cli_run import perftui
from tests.efficiency.synth import write_run

ROOT = Path(__file__).resolve().parents[2]
H100 = ROOT / "tests" / "fixtures" / "gpu_h100"
H100_BF16_PEAK = 989.4  # TFLOP/s, H100 SXM dense BF16 at its 1830 MHz boost clock (core/gpu_peaks.py)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _mfu(params: float, tokens_per_s: float, per_token: float, gpus: int) -> float:
    return 100 * per_token * params * tokens_per_s / (gpus * H100_BF16_PEAK * 1e12)


def _report_eff(path: Path, params: float, mode: str):  # type: ignore[no-untyped-def]
    opts = EfficiencyOptions(model_params=params, mfu_mode=mode)
    return build_report(open_recording(path), diagnose=False, efficiency=opts).efficiency


def test_compare_shows_both_runs_mfu_as_report_computes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_run(tmp_path / "base.sqlite", 1, tokens_per_s=10_000.0, tensor_pct=50.0, clock_mhz=1830.0)
    new = write_run(tmp_path / "new.sqlite", 1, tokens_per_s=7_000.0, tensor_pct=50.0, clock_mhz=1830.0)
    rc, out, _ = _run(capsys, "compare", str(base), str(new), "--model-params", "7B", "--mfu-mode", "train",
                      "--format", "json")  # fmt: skip
    assert rc == 0
    eff = json.loads(out)["efficiency"]
    assert (eff["model_params"], eff["mfu_mode"]) == (7e9, "train")
    assert eff["base"]["mfu_pct"] == pytest.approx(_mfu(7e9, 10_000, 6, 1), rel=1e-6)  # 42.4 %
    assert eff["new"]["mfu_pct"] == pytest.approx(_mfu(7e9, 7_000, 6, 1), rel=1e-6)
    for side, path in (("base", base), ("new", new)):
        report = _report_eff(path, 7e9, "train")
        assert report is not None
        assert eff[side]["mfu_pct"] == pytest.approx(report.mfu_pct)  # the same arithmetic as report
        assert eff[side]["flops_util_pct"] == pytest.approx(report.flops_util_pct)
        assert eff[side]["flops_util_pct"] == pytest.approx(50.0, rel=1e-3)
    rc, md, _ = _run(capsys, "compare", str(base), str(new), "--model-params", "7e9", "--mfu-mode", "train")
    assert rc == 0 and "## Efficiency" in md
    assert "| MFU | 42 % | 30 % | -30.0 % |" in md
    assert "| FLOPS utilization | 50 % | 50 % | +0.0 % |" in md
    assert "6·N per token (training), N = 7e+09 parameters" in md
    rc, html, _ = _run(capsys, "compare", str(base), str(new), "--model-params", "7B", "--format", "html")
    assert rc == 0 and "<h2>Efficiency</h2>" in html and "2·N per token (inference)" in html
    assert '<td class="n">14 %</td>' in html  # inference: a third of the training figure


def test_compare_without_model_params_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "r.sqlite", 1, tokens_per_s=1000.0)
    rc, md, _ = _run(capsys, "compare", str(run), str(run))
    assert rc == 0 and "Efficiency" not in md and "MFU" not in md
    rc, js, _ = _run(capsys, "compare", str(run), str(run), "--format", "json")
    assert rc == 0 and "efficiency" not in json.loads(js)


def test_compare_h100_recordings_say_why_there_is_no_mfu(capsys: pytest.CaptureFixture[str]) -> None:
    matmul, starved = str(H100 / "matmul_bf16.sqlite"), str(H100 / "starved_loader.sqlite")
    rc, out, _ = _run(capsys, "compare", matmul, starved, "--model-params", "70B", "--format", "json")
    assert rc == 0
    eff = json.loads(out)["efficiency"]
    base, new = eff["base"], eff["new"]
    assert base["mfu_pct"] is None and "MFU needs a tokens/s figure" in base["notes"]
    assert abs(base["total_tflops"] / 674.0 - 1) < 0.15  # the GEMMs measured themselves at 674 TFLOP/s
    assert base["flops_util_pct"] > 60 and new["flops_util_pct"] < 5  # a starved GPU does no math
    rc, md, _ = _run(capsys, "compare", matmul, starved, "--model-params", "70B")
    assert "| MFU | — | — | — |" in md
    assert "- MFU needs a tokens/s figure" in md  # both runs lack it: said once, not per side


def test_scaling_mfu_per_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lossy = {1: 10_000.0, 2: 19_000.0, 4: 36_000.0, 8: 64_000.0}
    paths = [
        str(write_run(tmp_path / f"run{n}.sqlite", n, tokens_per_s=t, tensor_pct=60.0, clock_mhz=1830.0))
        for n, t in lossy.items()
    ]
    rc, out, _ = _run(capsys, "scaling", *paths, "--model-params", "7B", "--mfu-mode", "train",
                      "--format", "json")  # fmt: skip
    assert rc == 0
    data = json.loads(out)
    assert (data["model_params"], data["mfu_mode"]) == (7e9, "train")
    rows = data["rows"]
    mfus = [r["run"]["mfu_pct"] for r in rows]
    assert mfus == pytest.approx([_mfu(7e9, t, 6, n) for n, t in lossy.items()], rel=1e-6)
    # same model, same GPUs: MFU falls exactly as the scaling efficiency does
    assert [m / mfus[0] * 100 for m in mfus] == pytest.approx([r["efficiency_pct"] for r in rows])
    assert [r["run"]["flops_util_pct"] for r in rows] == pytest.approx([60.0] * 4, rel=1e-3)
    report = _report_eff(Path(paths[2]), 7e9, "train")
    assert report is not None and mfus[2] == pytest.approx(report.mfu_pct)
    rc, md, _ = _run(capsys, "scaling", *paths, "--model-params", "7B", "--mfu-mode", "train")
    assert rc == 0 and "| FLOPS util | MFU |" in md
    shown = {line.split(" | ")[0]: line for line in md.splitlines() if line.startswith("| run")}
    assert shown["| run1.sqlite"].endswith("| 60 % | 42 % |")
    assert shown["| run8.sqlite"].endswith("| 60 % | 34 % |")  # 64,000 tokens/s on 8 GPUs


def test_scaling_without_model_params_has_no_mfu_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(write_run(tmp_path / f"r{n}.sqlite", n, tokens_per_s=1000.0 * n)) for n in (1, 2)]
    rc, md, _ = _run(capsys, "scaling", *paths)
    assert rc == 0 and "MFU" not in md and "FLOPS util" not in md


def test_scaling_h100_recordings_say_why_there_is_no_mfu(capsys: pytest.CaptureFixture[str]) -> None:
    runs = [str(H100 / "matmul_bf16.sqlite"), str(H100 / "tiny_kernels.sqlite")]
    rc, md, _ = _run(capsys, "scaling", *runs, "--model-params", "7B")
    assert rc == 0
    matmul = next(line for line in md.splitlines() if line.startswith("| matmul_bf16.sqlite"))
    assert matmul.endswith("| 69 % | — |")  # FLOPS utilization from GPM; no tokens/s, so no MFU
    assert "matmul_bf16.sqlite: no MFU: " in md and "MFU needs a tokens/s figure" in md


@pytest.mark.parametrize("command", ["compare", "scaling"])
@pytest.mark.parametrize("bad", ["0", "2e14", "seven"])
def test_bad_model_params_is_one_line_and_exit_2(
    command: str, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = str(H100 / "matmul_bf16.sqlite")
    rc, out, err = _run(capsys, command, rec, rec, "--model-params", bad)
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--model-params" in err, err


def test_bad_model_params_real_command() -> None:
    rec = str(H100 / "matmul_bf16.sqlite")
    for command in ("compare", "scaling"):
        r = perftui(command, rec, rec, "--model-params", "-1")
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
