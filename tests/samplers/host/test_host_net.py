"""NetSampler: NIC, TCP and InfiniBand rates from fixture files, wraps and resets, the real machine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from perftui.samplers.net import NetSampler, parse_net_dev
from perftui.samplers.procfs import parse_header_pairs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "proc"
HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo"
    " colls carrier compressed\n"
)


def nic(name: str, rxb: int, rxp: int, txb: int, txp: int, rxe: int = 0, rxd: int = 0, txe: int = 0,
        txd: int = 0) -> str:  # fmt: skip
    return f"{name:>6}: {rxb} {rxp} {rxe} {rxd} 0 0 0 0 {txb} {txp} {txe} {txd} 0 0 0 0\n"


def snmp(out_segs: int, retrans: int) -> str:
    return (
        "Ip: Forwarding DefaultTTL\nIp: 2 64\n"
        "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets "
        "CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
        f"Tcp: 1 200 120000 -1 17 2 0 0 0 1926 {out_segs} {retrans} 0 14 0\n"
        "Udp: InDatagrams NoPorts\nUdp: 32 0\n"
    )


def make(proc: Any, sys_tree: Any, clock: Any) -> NetSampler:
    return NetSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree), clock=clock)


def test_exact_nic_and_tcp_rates(proc: Any, sys_tree: Any, clock: Any) -> None:
    proc.write("net/dev", HEADER + nic("lo", 500, 5, 500, 5) + nic("eth0", 1000, 10, 2000, 20)
               + nic("docker0", 0, 0, 0, 0))  # fmt: skip
    proc.write("net/snmp", snmp(out_segs=1000, retrans=3))
    sys_tree.write("class/net/eth0/speed", "25000\n")
    sys_tree.write("class/net/eth0/operstate", "up\n")
    s = make(proc, sys_tree, clock)
    assert s.availability().available
    first = s.sample()
    assert first["net.eth0.rx_bytes_per_s"] is None and first["net.tcp.retrans_per_s"] is None
    clock.advance(2.0)
    proc.write("net/dev", HEADER + nic("lo", 900, 9, 900, 9) + nic("eth0", 5000, 30, 10000, 60, 2, 4, 6, 8)
               + nic("docker0", 0, 0, 0, 0))  # fmt: skip
    proc.write("net/snmp", snmp(out_segs=3000, retrans=13))
    v = s.sample()
    assert v["net.eth0.rx_bytes_per_s"] == pytest.approx(2000.0)
    assert v["net.eth0.tx_bytes_per_s"] == pytest.approx(4000.0)
    assert v["net.eth0.rx_packets_per_s"] == pytest.approx(10.0)
    assert v["net.eth0.tx_packets_per_s"] == pytest.approx(20.0)
    assert v["net.eth0.rx_errors_per_s"] == pytest.approx(1.0)
    assert v["net.eth0.rx_drops_per_s"] == pytest.approx(2.0)
    assert v["net.eth0.tx_errors_per_s"] == pytest.approx(3.0)
    assert v["net.eth0.tx_drops_per_s"] == pytest.approx(4.0)
    assert v["net.tcp.out_segs_per_s"] == pytest.approx(1000.0)
    assert v["net.tcp.retrans_per_s"] == pytest.approx(5.0)
    assert not any(k.startswith(("net.lo.", "net.docker0.")) for k in v)
    d = s.details()
    assert d["net.nics"] == [{"name": "eth0", "speed_bytes_per_s": 25000 * 1e6 / 8, "operstate": "up"}]
    assert d["net.tcp.reason"] is None


def test_32_bit_wrap_and_reset(proc: Any, sys_tree: Any, clock: Any) -> None:
    proc.write("net/dev", HEADER + nic("eth0", 2**32 - 100, 10, 10**12, 10))
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    # rx bytes: a 32-bit driver counter wrapped (+150); tx bytes: a 64-bit counter went back (reset)
    proc.write("net/dev", HEADER + nic("eth0", 50, 20, 500, 20))
    v = s.sample()
    assert v["net.eth0.rx_bytes_per_s"] == pytest.approx(150.0)
    assert v["net.eth0.tx_bytes_per_s"] is None
    assert v["net.eth0.tx_packets_per_s"] == pytest.approx(10.0)
    clock.advance(1.0)
    proc.write("net/dev", HEADER + nic("eth0", 150, 30, 1500, 30))
    v = s.sample()
    assert v["net.eth0.tx_bytes_per_s"] == pytest.approx(1000.0)


def test_small_counter_going_back_is_a_reset_not_a_wrap(proc: Any, sys_tree: Any, clock: Any) -> None:
    proc.write("net/dev", HEADER + nic("eth0", 1000, 10, 0, 10))
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    proc.write("net/dev", HEADER + nic("eth0", 10, 10, 0, 10))
    assert s.sample()["net.eth0.rx_bytes_per_s"] is None


def test_missing_snmp_leaves_tcp_absent_and_nics_working(proc: Any, sys_tree: Any, clock: Any) -> None:
    proc.write("net/dev", HEADER + nic("eth0", 0, 1, 0, 1))
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    proc.write("net/dev", HEADER + nic("eth0", 100, 2, 0, 1))
    v = s.sample()
    assert v["net.eth0.rx_bytes_per_s"] == pytest.approx(100.0)
    assert not any(k.startswith("net.tcp.") for k in v)
    reason = s.details()["net.tcp.reason"]
    assert reason is not None and "snmp" in reason


def test_missing_net_dev_is_unavailable(proc: Any, sys_tree: Any) -> None:
    st = NetSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree)).availability()
    assert not st.available and "net/dev" in (st.reason or "")


def test_infiniband_counters_are_4_byte_words(proc: Any, sys_tree: Any, clock: Any) -> None:
    proc.write("net/dev", HEADER)
    c = "class/infiniband/mlx5_0/ports/1/counters"
    sys_tree.write(f"{c}/port_xmit_data", "1000\n")
    sys_tree.write(f"{c}/port_rcv_data", "4000\n")
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(2.0)
    sys_tree.write(f"{c}/port_xmit_data", "3000\n")  # +2000 words = 8000 bytes in 2 s
    sys_tree.write(f"{c}/port_rcv_data", "5000\n")
    v = s.sample()
    assert v["ib.mlx5_0_p1.tx_bytes_per_s"] == pytest.approx(4000.0)
    assert v["ib.mlx5_0_p1.rx_bytes_per_s"] == pytest.approx(2000.0)
    assert s.details()["net.ib_ports"] == ["mlx5_0_p1"]


def test_saturated_legacy_ib_counter_gives_no_value(proc: Any, sys_tree: Any, clock: Any) -> None:
    proc.write("net/dev", HEADER)
    c = "class/infiniband/mlx4_0/ports/2/counters"
    sys_tree.write(f"{c}/port_xmit_data", f"{2**32 - 1}\n")
    s = make(proc, sys_tree, clock)
    s.sample()
    clock.advance(1.0)
    v = s.sample()
    assert v["ib.mlx4_0_p2.tx_bytes_per_s"] is None
    assert "ib.mlx4_0_p2.rx_bytes_per_s" not in v


def test_real_format_fixture_files(proc: Any, sys_tree: Any) -> None:
    shutil.copytree(FIXTURES / "net", Path(str(proc)) / "net")
    dev = parse_net_dev((FIXTURES / "net" / "dev").read_text())
    assert "lo" in dev and all(len(v) == 16 for v in dev.values())
    tcp = parse_header_pairs((FIXTURES / "net" / "snmp").read_text(), "Tcp:")
    assert tcp is not None and tcp["MaxConn"] == -1 and "RetransSegs" in tcp
    s = NetSampler(1.0, proc_root=str(proc), sys_root=str(sys_tree))
    v = s.sample()
    assert "net.tcp.retrans_per_s" in v and "net.lo.rx_bytes_per_s" not in v


def test_real_machine() -> None:
    import socket

    s = NetSampler(0.1)
    assert s.availability().available
    s.sample()
    srv = socket.create_server(("127.0.0.1", 0))  # some TCP traffic (on lo)
    with srv, socket.create_connection(srv.getsockname()) as c:
        conn, _ = srv.accept()
        c.sendall(b"x" * 65536)
        conn.recv(65536)
        conn.close()
    v = s.sample()
    assert v["net.tcp.out_segs_per_s"] is not None and v["net.tcp.out_segs_per_s"] > 0
    assert v["net.tcp.retrans_per_s"] is not None and v["net.tcp.retrans_per_s"] >= 0
    assert not any(k.startswith("net.lo.") for k in v)
    assert all(x is None or x >= 0 for x in v.values())
