"""Specs of the host sources: cpu, memory, psi, disk, network, memory bandwidth."""

from __future__ import annotations

from perftui.core.spec import MetricSpec
from perftui.core.units import Unit

P, B, BR, PS, S = Unit.PERCENT, Unit.BYTES, Unit.BYTES_PER_S, Unit.PER_S, Unit.SECONDS


def _m(
    pattern: str,
    unit: Unit,
    desc: str,
    *,
    rate: bool = False,
    mx: float | None = None,
    label: str = "",
    source: str,
) -> MetricSpec:
    return MetricSpec(pattern, unit, desc, rate, mx, label, source)


SPECS: list[MetricSpec] = [
    # cpu
    _m("cpu.util", P, "CPU busy, all cores (100 % = every core busy)", mx=100, label="CPU", source="cpu"),
    _m("cpu.user", P, "time in user mode, all cores", mx=100, label="user", source="cpu"),
    _m("cpu.system", P, "time in kernel mode, all cores", mx=100, label="system", source="cpu"),
    _m("cpu.iowait", P, "idle time with I/O outstanding", mx=100, label="iowait", source="cpu"),
    _m("cpu.steal", P, "time stolen by the hypervisor", mx=100, label="steal", source="cpu"),
    _m("cpu.irq", P, "time in hard and soft interrupts", mx=100, label="irq", source="cpu"),
    _m("cpu.core.*.util", P, "one core busy", mx=100, label="core", source="cpu"),
    _m("cpu.core_max.util", P, "the busiest core", mx=100, label="busiest core", source="cpu"),
    _m("cpu.cores", Unit.COUNT, "logical cores", label="cores", source="cpu"),
    _m("cpu.load1", Unit.COUNT, "load average over 1 min", label="load1", source="cpu"),
    _m("cpu.load5", Unit.COUNT, "load average over 5 min", label="load5", source="cpu"),
    _m("cpu.load15", Unit.COUNT, "load average over 15 min", label="load15", source="cpu"),
    _m("cpu.freq_mhz", Unit.MHZ, "mean current core frequency", label="freq", source="cpu"),
    # memory
    _m("mem.total_bytes", B, "physical memory", label="total", source="memory"),
    _m("mem.used_bytes", B, "memory in use (total - available)", label="used", source="memory"),
    _m("mem.used_pct", P, "memory in use", mx=100, label="used", source="memory"),
    _m("mem.available_bytes", B, "memory available without swapping", label="available", source="memory"),
    _m("mem.cached_bytes", B, "page cache", label="cached", source="memory"),
    _m("mem.swap_used_bytes", B, "swap in use", label="swap", source="memory"),
    _m("mem.swap_in_bytes_per_s", BR, "swapped in", rate=True, label="swap in", source="memory"),
    _m("mem.swap_out_bytes_per_s", BR, "swapped out", rate=True, label="swap out", source="memory"),
    _m(
        "mem.major_faults_per_s",
        PS,
        "major page faults (reads from disk)",
        rate=True,
        label="maj faults",
        source="memory",
    ),
    # memory bandwidth (hardware counters only)
    _m(
        "mem.bw_bytes_per_s",
        BR,
        "host DRAM bandwidth, read + write",
        rate=True,
        label="mem BW",
        source="membw",
    ),
    _m("mem.bw_read_bytes_per_s", BR, "host DRAM read bandwidth", rate=True, label="mem rd", source="membw"),
    _m(
        "mem.bw_write_bytes_per_s", BR, "host DRAM write bandwidth", rate=True, label="mem wr", source="membw"
    ),
    # pressure stall information
    *[
        _m(
            f"psi.{res}.{kind}10",
            P,
            f"{res} pressure, '{kind}' avg10 (share of time {who} stalled)",
            mx=100,
            label=f"{res} {kind}",
            source="psi",
        )
        for res in ("cpu", "io", "memory")
        for kind, who in (("some", "at least one task"), ("full", "all non-idle tasks"))
    ],
    *[
        _m(
            f"psi.{res}.{kind}_rate",
            P,
            f"{res} pressure, '{kind}' from the total counter over the last tick",
            rate=True,
            mx=100,
            label=f"{res} {kind} now",
            source="psi",
        )
        for res in ("cpu", "io", "memory")
        for kind in ("some", "full")
    ],
    # disks
    _m("disk.*.read_bytes_per_s", BR, "bytes read", rate=True, label="read", source="disk"),
    _m("disk.*.write_bytes_per_s", BR, "bytes written", rate=True, label="write", source="disk"),
    _m("disk.*.read_iops", PS, "read operations", rate=True, label="r IOPS", source="disk"),
    _m("disk.*.write_iops", PS, "write operations", rate=True, label="w IOPS", source="disk"),
    _m(
        "disk.*.busy_pct",
        P,
        "time the device had I/O in flight",
        rate=True,
        mx=100,
        label="busy",
        source="disk",
    ),
    _m("disk.*.await_s", S, "mean time per completed I/O (queue + service)", label="await", source="disk"),
    # network
    _m("net.tcp.retrans_per_s", PS, "TCP segments retransmitted", rate=True, label="retrans", source="net"),
    _m("net.tcp.out_segs_per_s", PS, "TCP segments sent", rate=True, label="TCP out", source="net"),
    _m("net.*.rx_bytes_per_s", BR, "bytes received", rate=True, label="rx", source="net"),
    _m("net.*.tx_bytes_per_s", BR, "bytes sent", rate=True, label="tx", source="net"),
    _m("net.*.rx_packets_per_s", PS, "packets received", rate=True, label="rx pkt", source="net"),
    _m("net.*.tx_packets_per_s", PS, "packets sent", rate=True, label="tx pkt", source="net"),
    _m("net.*.rx_errors_per_s", PS, "receive errors", rate=True, label="rx err", source="net"),
    _m("net.*.tx_errors_per_s", PS, "transmit errors", rate=True, label="tx err", source="net"),
    _m("net.*.rx_drops_per_s", PS, "received packets dropped", rate=True, label="rx drop", source="net"),
    _m("net.*.tx_drops_per_s", PS, "sent packets dropped", rate=True, label="tx drop", source="net"),
    _m("ib.*.rx_bytes_per_s", BR, "InfiniBand port data received", rate=True, label="IB rx", source="net"),
    _m("ib.*.tx_bytes_per_s", BR, "InfiniBand port data sent", rate=True, label="IB tx", source="net"),
]
