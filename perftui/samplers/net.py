"""Network source: per-NIC traffic from /proc/net/dev, TCP from /proc/net/snmp,
InfiniBand port counters from /sys/class/infiniband.

`lo` is skipped, and so is any interface that has never moved a packet
(until it does). Some drivers keep 32-bit counters behind the kernel's 64-bit
fields: those wraps are handled (see `CounterRates`). InfiniBand
`port_{xmit,rcv}_data` count 4-byte words; legacy 32-bit port counters
saturate at 2**32 - 1 instead of wrapping, and then give no value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.sanitize import clean
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, RateTracker, Values
from perftui.samplers.procfs import (
    ULONG_MODULUS,
    CounterRates,
    join,
    list_dir,
    parse_header_pairs,
    read_int,
    read_str,
    read_text,
)

# /proc/net/dev columns after "iface:" and the metric each feeds.
_DEV_FIELDS = {
    0: "rx_bytes_per_s",
    1: "rx_packets_per_s",
    2: "rx_errors_per_s",
    3: "rx_drops_per_s",
    8: "tx_bytes_per_s",
    9: "tx_packets_per_s",
    10: "tx_errors_per_s",
    11: "tx_drops_per_s",
}
_IB_SATURATED = 2**32 - 1
IB_WORD_BYTES = 4.0


def parse_net_dev(text: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep or "|" in line:
            continue
        try:
            values = [int(x) for x in rest.split()]
        except ValueError:
            continue
        if len(values) >= 16:
            out[name.strip()] = values
    return out


class NetSampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        proc_root: str = "/proc",
        sys_root: str = "/sys",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "net"
        self.interval = interval
        self._dev_path = join(proc_root, "net", "dev")
        self._snmp_path = join(proc_root, "net", "snmp")
        self._sys_root = sys_root
        self._ib_root = join(sys_root, "class", "infiniband")
        self._clock = clock
        self._rates = CounterRates()
        self._status: SourceStatus | None = None
        self._tcp_reason: str | None = None
        self._nics: list[str] = []
        self._nic_info: dict[str, dict[str, Any]] = {}
        self._ib_ports: list[str] = []
        self._ib_rates = RateTracker()  # IB counters are reset (perfquery -R) or saturate; never wrap
        self._ib_prev_raw: dict[str, int] = {}

    def availability(self) -> SourceStatus:
        if self._status is None:
            try:
                text = read_text(self._dev_path)
            except OSError as exc:
                self._status = SourceStatus.unavailable(
                    f"cannot read {self._dev_path}: {exc.strerror or exc}"
                )
            else:
                self._status = (
                    SourceStatus.ok()
                    if text is not None
                    else SourceStatus.unavailable(f"no {self._dev_path} (not a Linux /proc)")
                )
        return self._status

    def sample(self) -> Values:
        now = self._clock()
        out: Values = {}
        seen: list[str] = []
        nics: list[str] = []
        for name, v in parse_net_dev(read_text(self._dev_path) or "").items():
            if name == "lo" or (v[1] == 0 and v[9] == 0):
                continue
            nics.append(name)
            label = clean(name)  # a NIC can be renamed to hold escapes: keys and details show it clean
            for col, metric in _DEV_FIELDS.items():
                key = f"net.{label}.{metric}"
                seen.append(key)
                out[key] = self._rates.rate(key, float(v[col]), now)
        if nics != self._nics:
            self._nics = nics
            self._nic_info = {n: self._describe_nic(n) for n in nics}
        out.update(self._tcp(now, seen))
        out.update(self._infiniband(now))
        self._rates.forget_except(seen)
        return out

    def _tcp(self, now: float, seen: list[str]) -> Values:
        try:
            text = read_text(self._snmp_path)
        except OSError as exc:
            self._tcp_reason = f"cannot read {self._snmp_path}: {exc.strerror or exc}"
            return {}
        if text is None:
            self._tcp_reason = f"no {self._snmp_path} (network namespace or kernel without it)"
            return {}
        tcp = parse_header_pairs(text, "Tcp:")
        if tcp is None or "RetransSegs" not in tcp or "OutSegs" not in tcp:
            self._tcp_reason = f"{self._snmp_path} has no Tcp RetransSegs/OutSegs"
            return {}
        self._tcp_reason = None
        out: Values = {}
        for field, key in (("RetransSegs", "net.tcp.retrans_per_s"), ("OutSegs", "net.tcp.out_segs_per_s")):
            seen.append(key)
            out[key] = self._rates.rate(key, float(tcp[field]), now)
        return out

    def _infiniband(self, now: float) -> Values:
        out: Values = {}
        ports: list[str] = []
        for dev in list_dir(self._ib_root):
            ports_dir = join(self._ib_root, dev, "ports")
            for port in list_dir(ports_dir):
                counters = join(ports_dir, port, "counters")
                label = clean(f"{dev}_p{port}")
                found = False
                for fname, metric in (
                    ("port_xmit_data", "tx_bytes_per_s"),
                    ("port_rcv_data", "rx_bytes_per_s"),
                ):
                    raw = read_int(join(counters, fname))
                    if raw is None:
                        continue
                    found = True
                    key = f"ib.{label}.{metric}"
                    rate = self._ib_rates.rate(key, float(raw), now, wrap=ULONG_MODULUS, scale=IB_WORD_BYTES)
                    prev = self._ib_prev_raw.get(key)
                    self._ib_prev_raw[key] = raw
                    if raw == _IB_SATURATED and prev == _IB_SATURATED:
                        rate = None  # a saturated legacy counter: the true rate is unknown
                    out[key] = rate
                if found:
                    ports.append(label)
        self._ib_ports = ports
        return out

    def _describe_nic(self, name: str) -> dict[str, Any]:
        base = join(self._sys_root, "class", "net", name)
        info: dict[str, Any] = {"name": clean(name)}
        speed = read_int(join(base, "speed"))  # Mb/s; -1 or unreadable when unknown or link down
        if speed is not None and speed > 0:
            info["speed_bytes_per_s"] = speed * 1e6 / 8
        operstate = read_str(join(base, "operstate"))
        if operstate:
            info["operstate"] = clean(operstate)
        return info

    def details(self) -> Mapping[str, Any]:
        return {
            "net.nics": [dict(self._nic_info[n]) for n in self._nics],
            "net.ib_ports": list(self._ib_ports),
            "net.tcp.reason": self._tcp_reason,
        }
