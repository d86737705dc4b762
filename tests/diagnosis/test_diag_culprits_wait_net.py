"""io-bound culprits in I/O wait (state D), container identity in culprit lines, and network findings
that say plainly why they name no process: on fixture process tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from perftui.core.proctable_record import TOP_PER_RESOURCE, recorded_table
from perftui.diagnosis.checks_host import NO_NET_CULPRITS
from perftui.diagnosis.culprits import short_container
from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.render import advice_detail, diagnosis_json
from perftui.report.build import build_report
from perftui.report.rediagnose import advice_from_details
from perftui.report.render_md import render_markdown
from perftui.store.reader import open_recording
from tests.diagnosis.windows import GiB, const, findings, hits, host

MB = 1e6
DOCKER = "docker 3f2a9c1b2d4e"
POD = "pod 7c1e2a3b container 3f2a9c1b2d4e"
RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"


def _row(
    pid: int,
    name: str,
    state: str = "S",
    disk: float | None = 0.0,
    cpu: float = 0.0,
    container: str = "",
    cmd: str | None = None,
) -> dict[str, Any]:
    return {
        "pid": pid,
        "user": "u",
        "name": name,
        "state": state,
        "start_ticks": 1000 + pid,
        "cpu_pct": cpu,
        "rss_bytes": 1 * GiB,
        "disk_bps": disk,
        "container": container,
        "cmdline": name if cmd is None else cmd,
    }


def _table(*rows: dict[str, Any], ts: float = 100.0) -> dict[str, Any]:
    return {"ts": ts, "rows": list(rows)}


IO_TABLE = _table(
    _row(4242, "dd", "D", disk=38 * MB, cmd="dd if=/dev/zero of=/data/x bs=1M"),
    _row(31, "kworker/u8:2", "D", cmd="[kworker/u8:2]"),
    _row(310, "jbd2/vda1-8", "D", disk=0.2 * MB, cmd="[jbd2/vda1-8]"),
    _row(900, "rsync", "D", disk=0.1 * MB, cmd="rsync -a /src /dst"),
    _row(5, "bash", "S", cmd="bash"),
)


def _io(details: dict[str, Any]) -> Any:
    return next(f for f in findings(host(psi__io__some10=30), details) if f.rule == "host.io_pressure")


def test_io_bound_names_byte_movers_then_processes_in_io_wait() -> None:
    f = _io({"proctable": IO_TABLE})
    # dd moves the bytes and is named for them, not again as waiting; user processes before kernel
    # threads among those in I/O wait; bash (sleeping, no bytes) is not named
    assert f.evidence[1] == (
        "dd (PID 4242) 38.0 MB/s (99 % of all); "
        "in I/O wait: rsync (PID 900), jbd2/vda1-8 (PID 310), kworker/u8:2 (PID 31)"
    )
    assert [(c.pid, c.resource) for c in f.culprits] == [
        (4242, "disk"),
        (900, "iowait"),
        (310, "iowait"),
        (31, "iowait"),
    ]
    assert f.next_step == "pidstat -d -p 4242 1"  # the byte mover stays the one the step aims at
    out = diagnosis_json(Diagnosis(f.verdict, f.confidence, (f,)))
    assert [c["resource"] for c in out["culprits"]] == ["disk", "iowait", "iowait", "iowait"]
    assert out["culprits"][1]["text"] == "in I/O wait: rsync (PID 900)"


def test_only_processes_in_io_wait_are_named_when_nothing_moves_bytes() -> None:
    # e.g. an NFS mount that stopped answering: processes block, no bytes move
    table = _table(_row(77, "ls", "D", disk=None), _row(78, "find", "D", disk=0.0), _row(5, "bash"))
    f = _io({"proctable": table})
    assert f.evidence[1] == "in I/O wait: ls (PID 77), find (PID 78)"
    assert [c.resource for c in f.culprits] == ["iowait", "iowait"]
    assert f.next_step == "pidstat -d -p 77 1"


def test_a_process_seen_in_io_wait_earlier_in_the_window_is_named_if_still_alive() -> None:
    first = _table(_row(600, "tar", "D", disk=0.5 * MB), _row(601, "gone", "D"), ts=90.0)
    last = _table(_row(600, "tar", "R", disk=0.5 * MB), _row(5, "bash"))
    f = _io({"proctable": last, "proctable.first": first})
    assert f.evidence[1] == "in I/O wait: tar (PID 600)"  # the exited one is not named
    assert not [c for c in _io({"proctable": last}).culprits if c.resource == "iowait"]


def test_few_processes_in_io_wait_keep_the_line_short() -> None:
    many = [_row(100 + i, f"w{i}", "D", cmd=f"w{i} --job") for i in range(10)]
    f = _io({"proctable": _table(*many)})
    assert len(f.culprits) == 3 and f.evidence[1].count("PID") == 3


def test_a_recording_keeps_the_rows_in_io_wait() -> None:
    busy = [_row(10 + i, f"busy{i}", "R", disk=(i + 1) * MB, cpu=90 - i) for i in range(2 * TOP_PER_RESOURCE)]
    blocked = _row(999, "stuck", "D", disk=0.0, cmd="stuck --forever")
    kept = recorded_table(_table(*busy, blocked))
    assert 999 in {r["pid"] for r in kept["rows"]}
    f = _io({"proctable": kept})
    assert "in I/O wait: stuck (PID 999)" in f.evidence[1]


def test_container_identity_in_the_culprit_line_and_json() -> None:
    table = _table(
        _row(4242, "sha256sum", "R", cpu=100.0, container=DOCKER),
        _row(77, "python3", "R", cpu=90.0, container=POD, cmd="/usr/bin/python3 serve.py"),
        _row(78, "gzip", "R", cpu=50.0),
    )
    f = findings(host(cpu__util=99, cpu__core_max__util=100), {"proctable": table})[0]
    assert f.evidence[1] == (
        "sha256sum (PID 4242, docker 3f2a…) 100 %, python3 (PID 77, Python, pod 7c1e… ctr 3f2a…) 90 %, "
        "gzip (PID 78) 50 %"
    )
    out = diagnosis_json(Diagnosis(f.verdict, f.confidence, (f,)))
    assert out["culprits"][0]["container"] == DOCKER  # the JSON keeps the full label
    assert out["culprits"][0]["text"] == "sha256sum (PID 4242, docker 3f2a…) 100 %"


def test_container_identity_in_io_wait_and_in_reports() -> None:
    table = _table(_row(4242, "dd", "R", disk=38 * MB, container=DOCKER), _row(9, "pg", "D", container=POD))
    f = _io({"proctable": table})
    assert f.evidence[1] == (
        "dd (PID 4242, docker 3f2a…) 38.0 MB/s (100 % of all); in I/O wait: pg (PID 9, pod 7c1e… ctr 3f2a…)"
    )
    [advice] = advice_from_details([advice_detail(Diagnosis(f.verdict, f.confidence, (f,)))])
    report = build_report(open_recording(RECORDINGS / "base.sqlite"), diagnose=False)
    report = replace(report, diagnosis=replace(report.diagnosis, advice=(advice,)))
    assert "Culprits: dd (PID 4242, docker 3f2a…) 38.0 MB/s" in render_markdown(report, charts=False)


def test_short_container_labels() -> None:
    assert short_container(DOCKER) == "docker 3f2a…"
    assert short_container("podman 0123456789ab") == "podman 0123…"
    assert short_container("pod 7c1e2a3b") == "pod 7c1e…"
    assert short_container("lxc web") == "lxc web"  # a name, not an ID: kept


def test_network_findings_say_why_no_process_is_named() -> None:
    nics = [{"name": "eth0", "speed_bytes_per_s": 125e6, "operstate": "up"}]
    table = _table(_row(4242, "curl", "S", cpu=30.0, disk=0.0), _row(5, "bash"))
    v = host()
    v["net.eth0.rx_bytes_per_s"] = const(110e6)
    v["net.tcp.out_segs_per_s"] = const(1000)
    v["net.tcp.retrans_per_s"] = const(50)
    link, tcp = hits("host.network", v, {"net.nics": nics, "proctable": table})
    for h in (link, tcp):
        assert h.evidence[-1] == NO_NET_CULPRITS and h.culprits == ()
    f = next(f for f in findings(v, {"net.nics": nics, "proctable": table}) if f.verdict == "network-bound")
    assert f.culprits == () and NO_NET_CULPRITS in f.evidence
    assert not any("curl" in e or "PID" in e for e in f.evidence)  # no process credited with bytes
    out = diagnosis_json(Diagnosis(f.verdict, f.confidence, (f,)))
    assert out["culprits"] == []
