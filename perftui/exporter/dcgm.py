"""`--compat dcgm`: perftui's GPU keys under dcgm-exporter's names, units and labels.

Names, units and HELP texts follow dcgm-exporter's `etc/default-counters.csv` (d5e5f51); the labels
are the ones its renderer writes (`gpu`, `UUID`, `pci_bus_id`, `device`, `modelName`, `Hostname`),
so dashboards written for dcgm-exporter (NVIDIA's official Grafana dashboard among them) read
perftui unchanged. The table is the documentation: README's mapping section is generated from it
by hand and tested against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily

from perftui.store.metric_store import MetricStore

MIB = 1024.0 * 1024.0
LABELS = ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname")


@dataclass(frozen=True)
class DcgmField:
    name: str
    keys: tuple[str, ...]  # perftui suffixes of `gpu.<i>.`, first present wins
    scale: float
    help: str
    derive: Callable[[MetricStore, str], float | None] | None = None


def _fb_free(store: MetricStore, prefix: str) -> float | None:
    used, total = store.latest(prefix + "mem_used_bytes"), store.latest(prefix + "mem_total_bytes")
    if used is None or total is None:
        return None
    return max(0.0, total - used) / MIB


def _xid(store: MetricStore, prefix: str) -> float | None:
    if store.latest(prefix + "xid_events") is None:
        return None  # XID events are not watched on this GPU
    last = store.detail(prefix + "xid_last")
    return float(last["xid"]) if isinstance(last, dict) and "xid" in last else 0.0


FIELDS: tuple[DcgmField, ...] = (
    DcgmField("DCGM_FI_DEV_GPU_UTIL", ("util",), 1.0, "GPU utilization (in %)."),
    DcgmField("DCGM_FI_DEV_MEM_COPY_UTIL", ("mem_util",), 1.0, "Memory utilization (in %)."),
    DcgmField("DCGM_FI_DEV_FB_USED", ("mem_used_bytes",), 1.0 / MIB, "Framebuffer memory used (in MiB)."),
    DcgmField("DCGM_FI_DEV_FB_FREE", (), 1.0, "Framebuffer memory free (in MiB).", _fb_free),
    DcgmField("DCGM_FI_DEV_POWER_USAGE", ("power_w",), 1.0, "Power draw (in W)."),
    DcgmField("DCGM_FI_DEV_GPU_TEMP", ("temp_c",), 1.0, "GPU temperature (in C)."),
    DcgmField("DCGM_FI_DEV_SM_CLOCK", ("sm_clock_mhz",), 1.0, "SM clock frequency (in MHz)."),
    DcgmField("DCGM_FI_DEV_MEM_CLOCK", ("mem_clock_mhz",), 1.0, "Memory clock frequency (in MHz)."),
    DcgmField("DCGM_FI_DEV_XID_ERRORS", (), 1.0, "Value of the last XID error encountered.", _xid),
    DcgmField(
        "DCGM_FI_PROF_SM_ACTIVE",
        ("sm_active",),
        0.01,
        "The ratio of cycles an SM has at least 1 warp assigned (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_SM_OCCUPANCY",
        ("sm_occupancy",),
        0.01,
        "The ratio of number of warps resident on an SM (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        ("tensor_active",),
        0.01,
        "Ratio of cycles the tensor (HMMA) pipe is active (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_DRAM_ACTIVE",
        ("dram_bw_util",),
        0.01,
        "Ratio of cycles the device memory interface is active sending or receiving data (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_PIPE_FP64_ACTIVE",
        ("fp64_active",),
        0.01,
        "Ratio of cycles the fp64 pipes are active (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_PIPE_FP32_ACTIVE",
        ("fp32_active",),
        0.01,
        "Ratio of cycles the fp32 pipes are active (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_PIPE_FP16_ACTIVE",
        ("fp16_active",),
        0.01,
        "Ratio of cycles the fp16 pipes are active (in %).",
    ),
    DcgmField(
        "DCGM_FI_PROF_PCIE_TX_BYTES",
        ("gpm_pcie_tx_bytes_per_s", "pcie_tx_bytes_per_s"),
        1.0,
        "The rate of data transmitted over the PCIe bus - including both protocol headers and data "
        "payloads - in bytes per second.",
    ),
    DcgmField(
        "DCGM_FI_PROF_PCIE_RX_BYTES",
        ("gpm_pcie_rx_bytes_per_s", "pcie_rx_bytes_per_s"),
        1.0,
        "The rate of data received over the PCIe bus - including both protocol headers and data "
        "payloads - in bytes per second.",
    ),
    DcgmField(
        "DCGM_FI_PROF_NVLINK_TX_BYTES",
        ("gpm_nvlink_tx_bytes_per_s", "nvlink_tx_bytes_per_s"),
        1.0,
        "The rate of data transmitted over NVLink, not including protocol headers, in bytes per second.",
    ),
    DcgmField(
        "DCGM_FI_PROF_NVLINK_RX_BYTES",
        ("gpm_nvlink_rx_bytes_per_s", "nvlink_rx_bytes_per_s"),
        1.0,
        "The rate of data received over NVLink, not including protocol headers, in bytes per second.",
    ),
)

# perftui GPU keys that dcgm-exporter has no field for (README lists them)
NO_DCGM_EQUIVALENT: tuple[str, ...] = (
    "mem_used_pct",
    "clock_event_reasons",
    "throttled",
    "power_limit_w",
    "energy_avg_w",
    "fan_pct",
    "tflops",
    "flops_util_pct",
)


def gpu_indices(store: MetricStore) -> list[int]:
    found = set()
    for key in store.keys("gpu."):
        part = key.split(".", 2)[1]
        if part.isdigit():
            found.add(int(part))
    return sorted(found)


def gpu_label_values(store: MetricStore, index: int, host: str) -> tuple[str, ...]:
    info = store.detail(f"gpu.{index}.info") or {}
    return (
        str(index),
        str(info.get("uuid") or ""),
        str(info.get("pci_bus_id") or ""),
        f"nvidia{index}",
        str(info.get("name") or ""),
        host,
    )


def dcgm_families(store: MetricStore, host: str) -> Iterator[GaugeMetricFamily]:
    gpus = [(i, f"gpu.{i}.", gpu_label_values(store, i, host)) for i in gpu_indices(store)]
    for field in FIELDS:
        fam = GaugeMetricFamily(field.name, field.help, labels=LABELS)
        for _, prefix, labels in gpus:
            value: float | None = None
            if field.derive is not None:
                value = field.derive(store, prefix)
            else:
                for suffix in field.keys:
                    raw = store.latest(prefix + suffix)
                    if raw is not None:
                        value = raw * field.scale
                        break
            if value is not None:
                fam.add_metric(labels, value)
        if fam.samples:
            yield fam
