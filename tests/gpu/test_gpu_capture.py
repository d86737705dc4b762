"""The non-GPU parts of benchmarks/gpu_capture.py: arguments, output place, files written (fake NVML)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_capture.py"


@pytest.fixture(scope="module")
def capture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_capture", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # import-safe: nothing GPU-related runs
    return mod


def test_arguments(capture: ModuleType) -> None:
    a = capture.parse_args([])
    assert a.seconds == 20.0 and a.workloads.split(",") == list(capture.WORKLOADS)
    a = capture.parse_args(["--workloads", "matmul_bf16,idle_10gib", "--seconds", "5"])
    assert a.workloads == "matmul_bf16,idle_10gib" and a.seconds == 5.0
    for bad in (["--workloads", "nope"], ["--seconds", "0"], ["--interval", "0.001"]):
        with pytest.raises(SystemExit) as e:
            capture.parse_args(bad)
        assert e.value.code == 2


def test_output_dir_precedence(capture: ModuleType, tmp_path: Path) -> None:
    assert capture.out_dir(tmp_path / "a", {"OUT": str(tmp_path / "b")}) == tmp_path / "a"
    assert capture.out_dir(None, {"OUT": str(tmp_path / "b")}) == tmp_path / "b"
    assert capture.out_dir(None, {}) == Path("gpu_capture_out")


def test_dry_run_on_the_fake_writes_its_files(capture: ModuleType, tmp_path: Path) -> None:
    assert capture.main(["--fake", "h100", "--ticks", "3", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "capture.json").read_text())
    assert summary["steps"]["nvml_call_timing"]["available"] is True
    calls = json.loads((tmp_path / "nvml_calls.json").read_text())["calls"]
    assert calls["nvmlDeviceGetUtilizationRates"]["calls"] == 3 and calls["nvmlGpmSampleGet"]["mean_us"] > 0
    probe = json.loads((tmp_path / "gpm_probe.json").read_text())
    assert "NVML_GPM_METRIC_SM_UTIL" in probe["supported"]
