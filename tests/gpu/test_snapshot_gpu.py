"""`perftui snapshot --json` carries GPU metrics and each GPU's tier (fake NVML), or why there are none."""

from __future__ import annotations

import json
import subprocess
import sys

from perftui.commands.snapshot import collect, to_json
from perftui.samplers.nvml import DRIVER_NOT_LOADED_REASON, NO_DRIVER_REASON
from tests.fakes.fake_nvml import make_fake_nvml


def test_snapshot_json_includes_gpu_metrics_and_tiers() -> None:
    fake = make_fake_nvml("mixed", realtime=True)  # H100 (GPM), A100, GeForce
    store = collect(0.15, gpu=True, nvml=fake)
    doc = json.loads(json.dumps(to_json(store)))
    assert doc["sources"]["gpu"] == {"available": True, "reason": None}
    m = doc["metrics"]
    assert m["gpu.0.util"]["unit"] == "%" and m["gpu.2.power_w"]["unit"] == "W"
    assert m["gpu.0.sm_active"]["value"] == 85.0  # two samples >= 0.1 s apart
    assert m["gpu.0.power_w"]["value"] > 0
    # the energy counter is read on both ticks of a snapshot (every 5 s elsewhere: a slow call)
    assert m["gpu.0.energy_avg_w"]["value"] > 0 and m["gpu.0.energy_avg_w"]["unit"] == "W"
    assert "gpu.1.sm_active" not in m
    d = doc["details"]
    assert [d[f"gpu.{i}.tier"] for i in range(3)] == ["gpm", "nvml", "nvml"]
    assert d["gpu.1.tier_reason"] == "GPM not supported on this GPU (pre-Hopper)"
    assert d["gpu.count"] == 3 and d["gpu.0.info"]["name"] == "NVIDIA H100 80GB HBM3"
    assert isinstance(d["gpu.processes"], list)
    assert fake.initialised == 0 and fake.gpm_freed == fake.gpm_alloc == 2


def test_snapshot_without_driver_says_why_and_keeps_host_sources() -> None:
    store = collect(0.05, gpu=True, nvml=make_fake_nvml("nodriver"))
    doc = to_json(store)
    assert doc["sources"]["gpu"] == {"available": False, "reason": NO_DRIVER_REASON}
    assert not any(k.startswith("gpu.") for k in doc["metrics"])
    assert any(name != "gpu" and s["available"] for name, s in doc["sources"].items())


def test_real_perftui_snapshot_command_on_this_machine() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "perftui", "snapshot", "--json", "--duration", "0.1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    gpu = doc["sources"]["gpu"]
    if gpu["available"]:  # pragma: no cover - a GPU machine
        assert any(k.endswith(".tier") for k in doc["details"])
    else:
        assert gpu["reason"] in (NO_DRIVER_REASON, DRIVER_NOT_LOADED_REASON, "no NVIDIA GPU found")
    assert "Traceback" not in r.stderr
