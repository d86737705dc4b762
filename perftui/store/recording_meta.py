"""What a recording says about where it was made: the machine (`system_metadata`) and its GPUs
(`gpu_metadata`, from the GPU sampler's details). Written into the file's meta table by the recorder's
callers; read back by reports and compare."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any


def gpu_metadata(details: Mapping[str, Any]) -> dict[str, Any]:
    """GPUs with driver and CUDA versions, from the GPU sampler's `gpu.driver` / `gpu.<i>.info`."""
    out: dict[str, Any] = {}
    if "gpu.driver" in details:
        out["gpu_driver"] = details["gpu.driver"]
    infos: list[tuple[int, Any]] = []
    for name, value in details.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "gpu" and parts[2] == "info" and parts[1].isdigit():
            infos.append((int(parts[1]), value))
    if infos:
        out["gpus"] = [v for _, v in sorted(infos, key=lambda p: p[0])]
    return out


def system_metadata(argv: list[str] | None = None, interval: float | None = None) -> dict[str, Any]:
    """What a recording says about the machine it was made on (GPU facts are added as they come)."""
    import platform
    import socket
    import sys

    import psutil

    from perftui import __version__

    cpu_model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                cpu_model = line.split(":", 1)[1].strip()
                break
    meta: dict[str, Any] = {
        "host": socket.gethostname(),
        "cpu_model": cpu_model,
        "cpu_cores_logical": psutil.cpu_count(logical=True),
        "cpu_cores_physical": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "os": platform.system(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "perftui": __version__,
        "start_time": time.time(),
        "command_line": list(sys.argv if argv is None else argv),
    }
    if interval is not None:
        meta["interval_s"] = interval
    return meta
