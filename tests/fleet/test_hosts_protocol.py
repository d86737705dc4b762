"""Host validation, the ssh argument list, the stream line format and the row model."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from perftui.fleet.hosts import HostError, SshOptions, check_hosts, host_problem, read_hosts_file, ssh_argv
from perftui.fleet.protocol import (
    MAX_LINE_BYTES,
    SCHEMA_VERSION,
    ProtocolError,
    SchemaMismatch,
    Verdict,
    decode_line,
    encode_tick,
)
from perftui.fleet.reader import classify_exit
from perftui.fleet.rows import filter_rows, host_row, sort_rows, summary_line
from perftui.fleet.state import BAD, STALE, UP, HostState
from tests.fleet.fakes import fake_tick


@pytest.mark.parametrize(
    "bad", ["-oProxyCommand=touch x", "a b", "host\tx", "h\x1b[2J", "h\n", "", "x" * 300]
)
def test_bad_host_names_are_refused(bad: str) -> None:
    assert host_problem(bad) is not None
    with pytest.raises(HostError):
        check_hosts(["ok", bad])
    with pytest.raises(HostError):
        ssh_argv(bad, SshOptions())


def test_good_hosts_and_hosts_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "hosts"
    f.write_text("# fleet\nnode1\n\nuser@node2  # a comment\nnode1\n[::1]:22\n")
    assert check_hosts(read_hosts_file(f)) == ["node1", "user@node2", "[::1]:22"]


def test_ssh_argv_is_safe() -> None:
    opts = SshOptions(remote_cmd="~/venv/bin/perftui", interval=2, no_gpu=True, connect_timeout=5)
    argv = ssh_argv("node1", opts)
    assert argv[0] == "ssh" and "-a" in argv and "ForwardAgent=no" in argv and "BatchMode=yes" in argv
    assert "ConnectTimeout=5" in argv
    assert not any("StrictHostKeyChecking" in a for a in argv)  # the user's setting stays
    assert argv[-3:-1] == ["--", "node1"]
    assert argv[-1] == "~/venv/bin/perftui stream --interval 2 --no-gpu"
    shared = ssh_argv("node1", SshOptions(control_persist=30))
    assert "ControlMaster=auto" in shared and "ControlPersist=30" in shared


def test_cli_refuses_bad_host_before_ssh(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n")
    fake_ssh.chmod(0o755)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "perftui",
            "fleet",
            "--json",
            "--ssh",
            str(fake_ssh),
            "ok",
            "--",
            "-oProxyCommand=x",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "begins with '-'" in r.stderr
    assert not marker.exists()


def test_round_trip_and_strict_decoding() -> None:
    line = encode_tick(
        0,
        100.0,
        1.0,
        {"gpu.0.util": 55.5, "cpu.util": 12.0},
        {"gpu": (False, "no driver")},
        Verdict("idle", "low", "GPU idle", "util 0 %"),
        {"host": "n1"},
    )
    t = decode_line(line)
    assert t.values == {"gpu.0.util": 55.5, "cpu.util": 12.0} and t.units["gpu.0.util"] == "%"
    assert t.sources == {"gpu": (False, "no driver")} and t.host == {"host": "n1"}
    assert t.verdict == Verdict("idle", "low", "GPU idle", "util 0 %")
    obj = json.loads(line)
    hostile = dict(obj, values={"a": "1", "b": True, "c": 1e999, "d": [5], "e": 2, "f": {"x": 1.5}})
    bad = decode_line(json.dumps(hostile).replace("Infinity", "NaN"))
    assert [bad.value(k) for k in "abcdef"] == [None, None, None, None, 2, None]
    assert bad.values == {"e": 2}
    known: set[str] = set()
    assert decode_line(encode_tick(0, 1.0, 1.0, {"cpu.util": 1.0}, {}, None, None, known)).units == {
        "cpu.util": "%"
    }
    assert decode_line(encode_tick(1, 2.0, 1.0, {"cpu.util": 2.0}, {}, None, None, known)).units == {}
    new = decode_line(
        encode_tick(2, 3.0, 1.0, {"cpu.util": 2.0, "gpu.0.power_w": 9.0}, {}, None, None, known)
    )
    assert new.units == {"cpu.util": "%", "gpu.0.power_w": "W"}
    obj["schema"] = SCHEMA_VERSION + 1
    with pytest.raises(SchemaMismatch, match="newer"):
        decode_line(json.dumps(obj))
    obj["schema"] = 0
    with pytest.raises(SchemaMismatch, match="older"):
        decode_line(json.dumps(obj))
    for bad in ["{", "[]", '{"schema": 1}', "x" * (MAX_LINE_BYTES + 1), '{"a":' * 100000]:
        with pytest.raises(ProtocolError):
            decode_line(bad)


def test_classify_ssh_failures() -> None:
    assert "host key unknown" in classify_exit(255, "Host key verification failed.\r\n")
    assert classify_exit(255, "root@h: Permission denied (publickey).").startswith("auth refused")
    assert "pipx install perftui" in classify_exit(127, "bash: line 1: perftui: command not found")
    assert classify_exit(255, "ssh: connect to host h port 1: Connection refused\x1b[2J") == (
        "ssh: connect to host h port 1: Connection refused\\x1b[2J"
    )


def test_rows_sort_filter_summary_and_staleness() -> None:
    states = []
    for i in range(6):
        st = HostState(f"n{i}")
        st.apply(fake_tick(i, 0, gpus=2), now=100.0)
        states.append(st)
    states[5].fail("auth refused: Permission denied", BAD)
    rows = [host_row(s, 101.0) for s in states]
    r0 = rows[0]
    assert r0.gpu_count == 2 and r0.gpu_model == "NVIDIA H100 80GB HBM3" and r0.p99_s == 1.5
    assert r0.power_cap_w == 1400.0 and r0.util_max is not None and r0.age_s == 1.0
    assert sort_rows(rows, "severity")[0].name == "n5"
    assert [r.name for r in sort_rows(rows, "name")] == [f"n{i}" for i in range(6)]
    powers = [r.power_w for r in sort_rows(rows, "power")[:5]]
    assert powers == sorted(powers, reverse=True)
    assert [r.name for r in filter_rows(rows, "memory")] == ["n1"]
    assert [r.name for r in filter_rows(rows, "auth")] == ["n5"]
    line = summary_line(rows)
    assert line.startswith("6 hosts: 5 up, 1 down") and "GPUs" in line
    states[0].refresh(100.0 + 60)
    assert states[0].status == STALE and "no data for 60 s" in (states[0].error or "")
    assert states[1].status == UP
    assert states[1].store.latest("cpu.util") == 11.0
