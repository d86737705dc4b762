"""The peak table against its cited datasheet figures, and NVML name matching."""

from __future__ import annotations

import pytest

from perftui.core.gpu_peaks import PEAKS, achieved, no_figure_reason, peak_for

# The datasheets round their figures; L40S's dense BF16 figure is 1.2 % below its own sparse ÷ 2,
# H20's comes from a product brief with rounded numbers.
TOLERANCE = {"L40S": 0.015, "H20": 0.015}


@pytest.mark.parametrize("row", PEAKS, ids=lambda r: r.model)
def test_per_clock_rates_reproduce_the_datasheet(row) -> None:  # type: ignore[no-untyped-def]
    tol = TOLERANCE.get(row.model, 0.005)
    tensor = row.peak_tflops("tensor", row.ref_mhz)
    assert tensor == pytest.approx(row.bf16_tflops, rel=tol), row.source
    if row.fp32_tflops is not None:  # non-tensor figures are quoted at the boost clock
        assert row.peak_tflops("fp32", row.boost_mhz) == pytest.approx(row.fp32_tflops, rel=0.006)
    assert any(w in row.source.lower() for w in ("datasheet", "whitepaper", "product brief"))
    assert row.ref_mhz <= row.boost_mhz


def test_required_models_are_in_the_table() -> None:
    models = {r.model for r in PEAKS}
    for want in ("H100 SXM", "H100 PCIe", "H100 NVL", "H200 SXM", "H20", "GH200", "B200", "B100",
                 "A100 SXM/PCIe", "A10", "A30", "L4", "L40S", "RTX 4090", "RTX 6000 Ada"):  # fmt: skip
        assert want in models


@pytest.mark.parametrize(
    ("nvml", "model"),
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H100 NVL", "H100 NVL"),
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA H200 NVL", "H200 NVL"),
        ("NVIDIA GH200 480GB", "GH200"),
        ("NVIDIA H20", "H20"),
        ("NVIDIA B200", "B200"),
        ("NVIDIA A100-SXM4-40GB", "A100 SXM/PCIe"),
        ("NVIDIA A100 80GB PCIe", "A100 SXM/PCIe"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA A30", "A30"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada"),
        ("NVIDIA A10G", None),
        ("NVIDIA L40", None),
        ("Tesla T4", None),
        ("", None),
    ],
)
def test_nvml_names(nvml: str, model: str | None) -> None:
    row = peak_for(nvml)
    assert (row.model if row else None) == model


def test_achieved_scales_with_the_clock_and_sums_pipes() -> None:
    h100 = peak_for("NVIDIA H100 80GB HBM3")
    assert h100 is not None
    full = achieved(h100, 1830, 100.0)
    assert full is not None and full.tflops == pytest.approx(989.4, rel=1e-3)
    assert full.util_pct == pytest.approx(100.0, rel=1e-3)
    half_clock = achieved(h100, 915, 100.0)
    assert half_clock is not None and half_clock.tflops == pytest.approx(989.4 / 2, rel=1e-3)
    mixed = achieved(h100, 1980, 0.0, fp32_pct=50.0)
    assert mixed is not None and mixed.tflops == pytest.approx(66.9 / 2, rel=1e-2)
    assert achieved(h100, 1500, None) is None


def test_reasons_for_no_figure() -> None:
    assert "GPM" in (no_figure_reason("NVIDIA A100-SXM4-80GB", "nvml") or "")
    reason = no_figure_reason("NVIDIA Quadro P1000", "gpm")
    assert reason is not None and "unknown GPU model" in reason and "P1000" in reason
    assert no_figure_reason("NVIDIA H100 80GB HBM3", "gpm") is None


def test_flops_phrase_for_the_compute_bound_evidence() -> None:
    from perftui.core.gpu_peaks import flops_phrase

    text = flops_phrase("NVIDIA H100 80GB HBM3", 1380, 93.0)
    assert text is not None and "≈694 TFLOP/s" in text and "70 % of the H100 SXM's dense BF16 peak" in text
    assert "1380 MHz" in text
    assert flops_phrase("NVIDIA Mystery", 1380, 93.0) is None and flops_phrase(None, 1380, 93.0) is None


def test_h100_recording_compute_bound_evidence_says_how_far_from_peak() -> None:
    from pathlib import Path

    from perftui.report.build import build_report
    from perftui.store.reader import open_recording

    rec = open_recording(Path(__file__).resolve().parents[1] / "fixtures/gpu_h100/matmul_bf16.sqlite")
    timeline = build_report(rec).diagnosis.recomputed
    assert timeline
    evidence = " ".join(e for row in timeline if row.verdict == "compute-bound" for e in row.evidence)
    assert "TFLOP/s (estimate)" in evidence and "H100 SXM's dense BF16 peak" in evidence
