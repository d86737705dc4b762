"""The headless diagnose path with the real samplers: host sources plus the GPU sampler on the
fake NVML (this machine has no GPU). Checks the GPU tier reaches the findings' confidence."""

from __future__ import annotations

from perftui.commands.diagnose import watch
from tests.fakes.fake_nvml import make_fake_nvml


def test_h100_with_gpm_gives_a_high_confidence_gpu_finding() -> None:
    diagnosis, tracker, store = watch(3.0, 0.5, gpu=True, nvml=make_fake_nvml("h100"))
    assert store.detail("gpu.0.tier") == "gpm"
    gpu = [f for f in diagnosis.findings if f.subject.startswith("gpu.")]
    # the fake H100: SM active 85 %, tensor 60 %, DRAM 35 %: compute-bound by [DCGM]/[NCU]
    assert any(f.rule == "gpu.compute_bound" and f.confidence == "high" for f in gpu), diagnosis.findings
    assert tracker.started and tracker.timeline


def test_a100_without_gpm_is_low_confidence_and_says_nvml_only() -> None:
    diagnosis, _, store = watch(3.0, 0.5, gpu=True, nvml=make_fake_nvml("a100"))
    assert store.detail("gpu.0.tier") == "nvml"
    gpu = [f for f in diagnosis.findings if f.subject.startswith("gpu.")]
    assert all(f.confidence in ("low", "medium") for f in gpu)
    assert all(f.rule not in ("gpu.compute_bound", "gpu.memory_bound", "gpu.latency_bound") for f in gpu)


def test_no_driver_means_host_only_diagnosis() -> None:
    diagnosis, _, store = watch(2.0, 0.5, gpu=True, nvml=make_fake_nvml("nodriver"))
    status = store.status("gpu")
    assert status is not None and not status.available
    assert all(not f.subject.startswith("gpu.") for f in diagnosis.findings)
    assert diagnosis.verdict in ("cpu-bound", "io-bound", "idle", "none", "memory-bound", "network-bound")
