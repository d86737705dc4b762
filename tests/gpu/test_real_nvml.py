"""With the real pynvml on a machine that has an NVIDIA GPU; skipped where NVML does not initialise."""

from __future__ import annotations

import json
import time

import pytest

from perftui.core.specs import spec_for
from perftui.samplers.gpu import GpuSampler


def _nvml_works() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        n = pynvml.nvmlDeviceGetCount()
        pynvml.nvmlShutdown()
        return bool(n)
    except Exception:
        return False


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not _nvml_works(), reason="NVML does not initialise here")]


def test_real_gpus_give_basics_and_a_tier() -> None:
    s = GpuSampler(0.2)
    assert s.availability().available
    s.sample()
    time.sleep(0.25)
    v = s.sample()
    d = dict(s.details())
    try:
        json.dumps(d)
        for i in range(d["gpu.count"]):
            assert d[f"gpu.{i}.tier"] in ("gpm", "nvml", "lost")
            if d[f"gpu.{i}.tier"] == "lost":
                continue
            total = v.get(f"gpu.{i}.mem_total_bytes")
            assert total is not None and total > 0
            assert f"gpu.{i}.power_w" in v and f"gpu.{i}.sm_clock_mhz" in v
            assert d[f"gpu.{i}.info"]["uuid"].startswith(("GPU-", "MIG-"))
            if d[f"gpu.{i}.tier"] == "gpm":
                assert v.get(f"gpu.{i}.sm_active") is not None
        for key in v:
            assert spec_for(key) is not None, key
    finally:
        s.close()


def test_real_unsupported_calls_are_asked_once() -> None:
    s = GpuSampler(0.1)
    assert s.availability().available
    try:
        for _ in range(5):
            s.sample()
            time.sleep(0.11)
        for key in s.nv.unsupported:
            index, name = key[0], key[1]
            assert s.nv.calls[(index, name)] <= 2 * max(
                1, len([k for k in s.nv.unsupported if k[:2] == key[:2]])
            )
    finally:
        s.close()


def test_real_gpm_buffers_freed() -> None:
    s = GpuSampler(0.2)
    assert s.availability().available
    s.sample()
    time.sleep(0.15)
    s.sample()
    s.close()
    assert all(g.gpm is None for g in s._gpus)
