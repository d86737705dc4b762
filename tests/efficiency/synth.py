"""Synthetic recordings of one job at several GPU counts, written through the real Recorder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perftui.store.metric_store import MetricStore
from perftui.store.recorder import Recorder

T0 = 1767268800.0


def write_run(
    path: Path,
    gpus: int,
    *,
    tokens_per_s: float | None = None,
    tensor_pct: float = 80.0,
    clock_mhz: float = 1500.0,
    collective_pct: float = 5.0,
    nvlink_bytes_per_s: float = 0.0,
    sm_active: float = 90.0,
    host: str = "gpu-node-1",
    script: str = "train.py",
    gpu_name: str = "NVIDIA H100 80GB HBM3",
    extra: dict[str, float] | None = None,
    seconds: int = 20,
) -> Path:
    store = MetricStore(capacity=256)
    meta: dict[str, Any] = {
        "host": host,
        "start_time": T0,
        "interval_s": 1.0,
        "gpus": [{"index": i, "name": gpu_name} for i in range(gpus)],
    }
    rec = Recorder(path, store, meta=meta, autoflush=False)
    rec.start()
    for t in range(seconds):
        values: dict[str, float | None] = {"stack.share.collective": collective_pct}
        if tokens_per_s is not None:
            values["probe.tokens_per_s"] = tokens_per_s
            values["probe.requests_per_s"] = tokens_per_s / 100
        for i in range(gpus):
            p = f"gpu.{i}."
            values |= {
                p + "tensor_active": tensor_pct,
                p + "sm_clock_mhz": clock_mhz,
                p + "sm_active": sm_active,
                p + "util": 99.0,
                p + "power_w": 500.0,
                p + "energy_avg_w": 480.0,
                p + "nvlink_rx_bytes_per_s": nvlink_bytes_per_s,
                p + "nvlink_tx_bytes_per_s": nvlink_bytes_per_s,
            }
        values |= extra or {}
        store.append(T0 + t, values)
        if t == 0:
            store.set_detail("proc.info", {"pid": 10, "cmdline": ["python", script, f"--gpus={gpus}"]})
            for i in range(gpus):
                store.set_detail(f"gpu.{i}.tier", "gpm")
        if not rec.flush():
            raise RuntimeError(str(rec.error))
    rec.close()
    return path
