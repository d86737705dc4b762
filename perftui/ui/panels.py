"""What each dashboard panel shows, read from a MetricStore (no Textual, no samplers). Every builder
returns a `PanelContent`: title, rows and notices. A source that is unavailable shows its reason; one
whose last sample is too old shows "stale (last sample Ns ago)"."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from perftui.core import details
from perftui.core.gpu import clock_event_labels, throttle_events
from perftui.core.specs import REGISTRY
from perftui.store.metric_store import MetricStore
from perftui.ui.cgroup_panel import cgroup_line, cgroup_warn
from perftui.ui.rows import Line, Piece, Row


class ViewCtx(NamedTuple):
    """The moment a frame shows: the clock, the window and the sampling interval."""

    now: float  # wall clock, for staleness
    window: float  # seconds of history shown
    interval: float  # sampling interval


@dataclass
class PanelContent:
    """What a panel shows this frame: title, rows, notices, and its one-line form."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notices: list[Piece] = field(default_factory=list)
    subtitle: str = ""
    summary: Row | None = None  # the one-line form (many GPUs in a small terminal)
    summary_extra: str = ""
    # per-core utilisation (CPU panel): bars with values under the rows when the panel has room
    bars: list[float | None] = field(default_factory=list)


def fmt(store: MetricStore, key: str) -> str:
    return REGISTRY.format(key, store.latest(key))


def metric_row(store: MetricStore, key: str, label: str = "", *, severity: str = "") -> Row:
    spec = REGISTRY.get(key)
    return Row(
        label=label or (spec.short_label if spec else key),
        key=key,
        value=fmt(store, key),
        hi=spec.natural_max if spec else None,
        severity=severity,
    )


def source_notices(store: MetricStore, sources: Iterable[str], ctx: ViewCtx) -> list[Piece]:
    out: list[Piece] = []
    stale_after = max(3.0 * ctx.interval, 3.0)
    for src in sources:
        status = store.status(src)
        if status is not None and not status.available:
            out.append((f"{src}: {status.reason or 'unavailable'}", "bad"))
            continue
        last = store.last_sample_ts(src)
        if last is not None and ctx.now - last > stale_after:
            out.append((f"{src}: stale (last sample {ctx.now - last:.0f} s ago)", "warn"))
        elif last is None and status is not None:
            out.append((f"{src}: waiting for the first sample", "dim"))
    return out


def used_of(used: str, total: str) -> str:
    """'30.4 GiB' of '80.0 GiB' -> '30.4/80.0 GiB' (the unit once when both share it)."""
    u_num, _, u_unit = used.partition(" ")
    t_num, _, t_unit = total.partition(" ")
    if u_unit and u_unit == t_unit:
        return f"{u_num}/{t_num} {t_unit}"
    return f"{used}/{total}"


def _sev(value: float | None, warn: float, bad: float) -> str:
    if value is None:
        return ""
    return "bad" if value >= bad else "warn" if value >= warn else ""


# -- host panels ------------------------------------------------------------
def _core_index(key: str) -> int:
    return int(key.split(".")[2])


def cpu_content(store: MetricStore, ctx: ViewCtx) -> PanelContent:
    rows: list[Row] = []
    if "cpu.util" in store:
        rows.append(metric_row(store, "cpu.util", "CPU", severity=_sev(store.latest("cpu.util"), 90, 98)))
    cores = sorted(
        (k for k in store.keys("cpu.core.") if k.endswith(".util") and k.split(".")[2].isdigit()),
        key=_core_index,
    )
    vals = [store.latest(k) for k in cores]
    if cores:
        # the busiest core's own series (the sampler's max of each sample), and it says so
        busiest = max((v for v in vals if v is not None), default=None)
        key = "cpu.core_max.util" if "cpu.core_max.util" in store else None
        rows.append(
            Row(
                label="busiest",
                key=key,
                value=REGISTRY.format("cpu.core_max.util", busiest),
                hi=100,
                strip=None if key else "",
                severity=_sev(busiest, 95, 99.5) if len(cores) > 1 else "",
            )
        )
    for key in ("cpu.user", "cpu.system", "cpu.iowait", "cpu.steal"):
        if key in store:
            sev = _sev(store.latest(key), 10, 30) if key in ("cpu.iowait", "cpu.steal") else ""
            rows.append(metric_row(store, key, severity=sev))
    loads = [store.latest(f"cpu.load{n}") for n in (1, 5, 15)]
    if any(v is not None for v in loads):
        rows.append(Row("load", text=" ".join("—" if v is None else f"{v:.2f}" for v in loads)))
    limits = limits_row(store)
    if limits is not None:
        rows.append(limits)
    title = "CPU"
    model = store.detail("cpu.model")
    if isinstance(model, str) and model:
        title = f"CPU · {model}"
    return PanelContent(title, rows, source_notices(store, ["cpu"], ctx), bars=vals)


BAR_CELL = 16  # a per-core bar's least width: index, 6 bar cells, value
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def core_bar_lines(values: list[float | None], width: int) -> list[Line]:
    """Per-core bars with values, several cores a line (as btop draws them): " 3 ████▌   57%"."""
    if not values or width < BAR_CELL:
        return []
    per_line = max(1, (width + 1) // (BAR_CELL + 1))
    cell = (width - (per_line - 1)) // per_line
    digits = len(str(len(values) - 1))
    bar_w = cell - digits - 6  # index, space, bar, space, "100%"
    lines: list[Line] = []
    for start in range(0, len(values), per_line):
        pieces: list[Piece] = []
        for i, v in enumerate(values[start : start + per_line], start):
            if pieces:
                pieces.append((" ", "label"))
            eighths = 0 if v is None else round(max(0.0, min(v, 100.0)) / 100 * bar_w * 8)
            bar = ("█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")).ljust(bar_w)
            value = "  —" if v is None else f"{v:3.0f}"
            role = "bad" if v is not None and v >= 98 else "spark"
            pieces += [(f"{i:>{digits}} ", "label"), (bar, role), (f" {value}%", "value")]
        used = sum(len(t) for t, _ in pieces)
        pieces.append((" " * (width - used), "label"))
        lines.append(tuple(p for p in pieces if p[0]))
    return lines


def limits_row(store: MetricStore) -> Row | None:
    """The attached process's container limits (quota, throttling, memory limit; issue 26), or
    the cgroup sampler's note (e.g. the root cgroup: no limits); None when nothing is attached."""
    d = {k: store.detail(k) for k in ("cgroup.attached", "cgroup.note", "cgroup.groups")}
    if not d["cgroup.attached"] and not d["cgroup.note"]:
        return None
    warn = cgroup_warn(store.latest, d)
    sev = "warn" if warn else "" if d["cgroup.attached"] else "dim"
    return Row("limits", text=cgroup_line(store.latest, d), severity=sev)


def memory_content(store: MetricStore, ctx: ViewCtx) -> PanelContent:
    rows: list[Row] = []
    if "mem.used_bytes" in store:
        total = store.latest("mem.total_bytes")
        used = fmt(store, "mem.used_bytes")
        value = used_of(used, REGISTRY.format("mem.total_bytes", total)) if total else used
        pct = store.latest("mem.used_pct")
        rows.append(Row("used", key="mem.used_pct", value=value, hi=100, severity=_sev(pct, 90, 97)))
    for key in ("mem.cached_bytes", "mem.swap_used_bytes"):
        if key in store:
            rows.append(metric_row(store, key))
    for key in ("mem.swap_in_bytes_per_s", "mem.swap_out_bytes_per_s", "mem.major_faults_per_s"):
        if key in store:
            rows.append(metric_row(store, key))
    for res in ("cpu", "io", "memory"):
        key = f"psi.{res}.some10"
        if key in store:
            rows.append(metric_row(store, key, f"PSI {res[:3]}", severity=_sev(store.latest(key), 10, 40)))
    bw = store.status("membw")
    if "mem.bw_bytes_per_s" in store:
        rows.append(metric_row(store, "mem.bw_bytes_per_s"))
    elif bw is not None and not bw.available:
        rows.append(Row("mem BW", text=f"unavailable: {bw.reason or ''}", severity="dim"))
    notices = source_notices(store, ["memory", "psi"], ctx)
    return PanelContent("Memory · PSI", rows, notices)


def _devices(store: MetricStore, prefix: str, suffix: str, exclude: Iterable[str] = ()) -> list[str]:
    names = []
    skip = set(exclude)
    for key in store.keys(prefix):
        if key.endswith(suffix):
            name = key[len(prefix) : -len(suffix)]
            if name and name not in skip:
                names.append(name)
    return sorted(set(names))


def _rates(store: MetricStore, keys: Iterable[tuple[str, str]]) -> str:
    return " ".join(f"{name} {fmt(store, key)}" for name, key in keys if key in store)


def disk_content(store: MetricStore, ctx: ViewCtx) -> PanelContent:
    rows: list[Row] = []
    for dev in _devices(store, "disk.", ".read_bytes_per_s"):
        p = f"disk.{dev}."
        busy = store.latest(p + "busy_pct")
        sev = _sev(busy, 80, 95)
        rows.append(metric_row(store, p + "read_bytes_per_s", f"{dev} rd", severity=sev))
        rows.append(metric_row(store, p + "write_bytes_per_s", f"{dev} wr", severity=sev))
        if busy is not None:
            rows.append(metric_row(store, p + "busy_pct", "  busy", severity=sev))
        # operations and their mean latency: what iostat users look for next to the bytes
        ops = _rates(store, (("r", p + "read_iops"), ("w", p + "write_iops")))
        if p + "await_s" in store:
            ops += f" · await {fmt(store, p + 'await_s')}"
        if ops:
            rows.append(Row("  IOPS", text=ops.removeprefix(" · ")))
    return PanelContent("Disks", rows, source_notices(store, ["disk"], ctx))


def net_content(store: MetricStore, ctx: ViewCtx) -> PanelContent:
    rows: list[Row] = []
    for nic in _devices(store, "net.", ".rx_bytes_per_s", exclude=["tcp"]):
        p = f"net.{nic}."
        rows.append(metric_row(store, p + "rx_bytes_per_s", f"{nic} rx"))
        rows.append(metric_row(store, p + "tx_bytes_per_s", f"{nic} tx"))
        pkts = _rates(store, (("rx", p + "rx_packets_per_s"), ("tx", p + "tx_packets_per_s")))
        faults = {
            name: sum(store.latest(p + f"{d}_{name}_per_s") or 0.0 for d in ("rx", "tx"))
            for name in ("errors", "drops")
        }
        if any(p + f"rx_{name}_per_s" in store for name in faults):
            err, drop = (REGISTRY.format(p + f"rx_{n}_per_s", v) for n, v in faults.items())
            pkts += f" · err {err} drop {drop}"
        if pkts:
            bad = any(v > 0 for v in faults.values())
            rows.append(Row("  pkts", text=pkts.removeprefix(" · "), severity="warn" if bad else ""))
    for dev in _devices(store, "ib.", ".rx_bytes_per_s"):
        rows.append(metric_row(store, f"ib.{dev}.rx_bytes_per_s", f"IB {dev} rx"))
        rows.append(metric_row(store, f"ib.{dev}.tx_bytes_per_s", f"IB {dev} tx"))
    if "net.tcp.retrans_per_s" in store:
        v = store.latest("net.tcp.retrans_per_s")
        rows.append(metric_row(store, "net.tcp.retrans_per_s", "TCP retr", severity=_sev(v, 10, 100)))
    notices = source_notices(store, ["net"], ctx)
    reason = store.detail("net.tcp.reason")
    if isinstance(reason, str) and reason:
        notices.append((f"TCP: {reason}", "dim"))
    return PanelContent("Network", rows, notices)


# -- GPU panels -------------------------------------------------------------
_GPU_KEY = re.compile(r"^gpu\.(\d+)\.")


_GPU_INDICES: weakref.WeakKeyDictionary[MetricStore, tuple[tuple[Any, ...], list[int]]] = (
    weakref.WeakKeyDictionary()
)


def gpu_indices(store: MetricStore) -> list[int]:
    """The GPU indices the store knows (asked several times a frame: scanned again only when a
    key appears)."""
    count = details.gpu_count(store)
    shape = (*store.shape, count)
    cached = _GPU_INDICES.get(store)
    if cached is not None and cached[0] == shape:
        return list(cached[1])
    found = {int(m.group(1)) for k in store.keys("gpu.") if (m := _GPU_KEY.match(k))}
    found |= {int(m.group(1)) for k in store.details("gpu.") if (m := _GPU_KEY.match(k))}
    if count is not None:
        found |= set(range(count))
    _GPU_INDICES[store] = (shape, sorted(found))
    return sorted(found)


def gpu_content(store: MetricStore, ctx: ViewCtx, i: int = 0) -> PanelContent:
    p = f"gpu.{i}."
    info = details.gpu_info(store, i)
    tier = details.gpu_tier(store, i)
    name = info.get("name") or "GPU"
    title = f"GPU {i} · {name}"
    subtitle = {"gpm": "GPM counters", "nvml": "NVML only", "lost": "LOST"}.get(tier or "", "")
    notices: list[Piece] = []
    if tier == "lost":
        notices.append((f"GPU lost: {details.gpu_tier_reason(store, i) or 'fell off the bus'}", "bad"))
        lost = PanelContent(title, [], notices, subtitle)
        lost.summary, lost.summary_extra = Row(f"GPU{i}", value="LOST", severity="bad"), "GPU lost"
        return lost
    rows: list[Row] = []

    def add(name: str, label: str = "", severity: str = "") -> None:
        if p + name in store:
            rows.append(metric_row(store, p + name, label, severity=severity))

    add("util", "util")
    add("sm_active", "SM act")
    add("tensor_active", "tensor")
    flops = _flops_row(store, i, info.get("name"), tier)
    if flops is not None:
        rows.append(flops)
    add("dram_bw_util", "DRAM BW", _sev(store.latest(p + "dram_bw_util"), 80, 95))
    if p + "mem_used_bytes" in store:
        total = store.latest(p + "mem_total_bytes") or info.get("memory_total_bytes")
        used = fmt(store, p + "mem_used_bytes")
        value = used_of(used, REGISTRY.format(p + "mem_total_bytes", total)) if total else used
        key = p + "mem_used_pct" if p + "mem_used_pct" in store else p + "mem_used_bytes"
        hi = 100.0 if key.endswith("pct") else (float(total) if total else None)
        pct = store.latest(p + "mem_used_pct")
        rows.append(Row("mem", key=key, value=value, hi=hi, severity=_sev(pct, 90, 97)))
    if p + "power_w" in store:
        cap = store.latest(p + "power_limit_w")
        pw = fmt(store, p + "power_w")
        rows.append(
            Row("power", key=p + "power_w", value=used_of(pw, f"{cap:.0f} W") if cap else pw, hi=cap or None)
        )
    add("temp_c", "temp", _sev(store.latest(p + "temp_c"), 83, 90))
    active = details.clock_events(store, i)
    throttling = clock_event_labels(throttle_events(active))
    if p + "sm_clock_mhz" in store:
        sm, mem = store.latest(p + "sm_clock_mhz"), store.latest(p + "mem_clock_mhz")
        clocks = f"{sm:.0f}" + (f"/{mem:.0f}" if mem is not None else "") + " MHz"
        if throttling:
            clocks += " throttled: " + ", ".join(throttling)
        elif active:
            clocks += " " + ", ".join(clock_event_labels(active))
        rows.append(Row("clocks", text=clocks, severity="warn" if throttling else ""))
    for kind in ("pcie", "nvlink"):
        for d in ("tx", "rx"):
            for pre in ("", "gpm_"):
                key = f"{p}{pre}{kind}_{d}_bytes_per_s"
                if key in store:
                    rows.append(metric_row(store, key, f"{'PCIe' if kind == 'pcie' else 'NVLink'} {d}"))
                    break
    for key, label in (("ecc_uncorrected", "ECC uncorr"), ("xid_events", "XID")):
        v = store.latest(p + key)
        if v:
            rows.append(Row(label, text=f"{v:.0f}", severity="bad"))
    notices.extend(source_notices(store, ["gpu"], ctx))  # a hung or stale sampler says so over old rows
    reason = details.gpu_tier_reason(store, i)
    if tier == "nvml" and reason and len(rows) < 4:
        notices.append((reason, "dim"))
    content = PanelContent(title, rows, notices, subtitle)
    by_label = {r.label: r for r in rows}
    util = by_label.get("util")
    extras = []
    if p + "mem_used_pct" in store:
        extras.append(f"mem {fmt(store, p + 'mem_used_pct')}")
    extras += [fmt(store, p + k) for k in ("power_w", "temp_c") if p + k in store]
    if throttling:
        extras.append("throttled")
    content.summary = Row(
        f"GPU{i}", key=util.key if util else None, value=util.value if util else "—", hi=100
    )
    content.summary_extra = "  ".join(extras)
    return content


def _flops_row(store: MetricStore, i: int, name: Any, tier: str | None) -> Row | None:
    """Achieved TFLOP/s (the GPU sampler's estimate) and its share of the dense BF16 peak, or why
    there is none (NVML-tier GPUs, models missing from the peak table); None while it waits."""
    from perftui.core.gpu_peaks import no_figure_reason, peak_for  # the peak table: with a GPU panel

    p = f"gpu.{i}."
    model = name if isinstance(name, str) else None
    tflops = store.latest(p + "tflops")
    if p + "tflops" not in store or tflops is None:
        why = no_figure_reason(model, tier)
        if why is None:
            return None  # a known GPM GPU: the figure comes with its second GPM sample
        short = "needs GPM counters" if why.startswith("needs GPM") else "model not in the peak table"
        return Row("TFLOP/s", text=short, severity="dim")
    peak = peak_for(model)
    util = store.latest(p + "flops_util_pct")
    value = f"≈{tflops:.0f}" + (f" ({util:.0f} %)" if util is not None else "")
    return Row("TFLOP/s", key=p + "tflops", value=value, hi=peak.bf16_tflops if peak else None)


def no_gpu_reason(store: MetricStore) -> str:
    """Why there is no GPU panel (the header's line): the GPU sampler's reason, or none found."""
    status = store.status("gpu")
    if status is not None and not status.available:
        return status.reason or "GPU sampler unavailable"
    if status is not None and store.last_sample_ts("gpu") is None:
        return "waiting for the first sample"
    return "none found"
