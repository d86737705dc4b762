"""Culprits and fitting advice on fixtures: GPU boxes, GPU processes, recorded advice in reports."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.render import advice_detail
from perftui.report.build import build_report
from perftui.report.rediagnose import advice_from_details
from perftui.report.render_html import render_html
from perftui.report.render_md import render_markdown
from perftui.store.reader import open_recording
from tests.diagnosis.windows import GiB, box, findings, host

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"


def _row(
    pid: int, name: str, cpu: float = 0.0, rss: float = 0.0, disk: float = 0.0, cmd: str = ""
) -> dict[str, Any]:
    return {
        "pid": pid,
        "user": "u",
        "name": name,
        "state": "R",
        "start_ticks": 1000 + pid,
        "cpu_pct": cpu,
        "rss_bytes": rss,
        "disk_bps": disk,
        "container": "",
        "cmdline": cmd or name,
    }


TABLE: dict[str, Any] = {
    "ts": 100.0,
    "rows": [
        _row(4242, "sha256sum", cpu=100.0),
        _row(4243, "sha256sum", cpu=99.6),
        _row(77, "pt_main_thread", cpu=60.0, rss=9 * GiB, cmd="/usr/bin/python3 train.py"),
        _row(5, "bash", cpu=0.5),
    ],
}
ON_GPU = [
    {
        "gpu": 0,
        "pid": 77,
        "used_bytes": 30 * GiB,
        "type": "compute",
        "sm_util": 90.0,
        "mem_util": 40.0,
        "container_pid": None,
    },
]


def test_the_evidence_line_reads_as_the_issue_asks() -> None:
    f = findings(host(cpu__util=99, cpu__core_max__util=100), {"proctable": TABLE})[0]
    assert f.evidence[1] == (
        "sha256sum (PID 4242) 100 %, sha256sum (PID 4243) 100 %, pt_main_thread (PID 77, Python) 60 %"
    )
    assert [c.pid for c in f.culprits] == [4242, 4243, 77]  # bash at 0.5 % holds no CPU to speak of
    first = f.as_dict()["culprits"][0]
    assert (first["pid"], first["name"], first["share"], first["python"]) == (4242, "sha256sum", 100.0, False)


def test_a_gpu_box_gives_no_gpu_advice_for_culprits_that_use_none() -> None:
    values, det = box(cpu__util=99, cpu__core_max__util=100)
    cpu = next(
        f
        for f in findings(values, {**det, "proctable": TABLE, "gpu.processes": ON_GPU})
        if f.rule == "host.cpu_saturated"
    )
    assert cpu.culprits[0].name == "sha256sum" and not cpu.culprits[0].uses_gpu
    assert not any("GPU" in s or "DataLoader" in s for s in cpu.suggestions)
    assert cpu.next_step == "perf top -p 4242"


def test_a_python_culprit_on_the_gpu_keeps_gpu_and_python_advice() -> None:
    table = {"ts": 100.0, "rows": [TABLE["rows"][2]]}
    values, det = box(cpu__util=99, cpu__core_max__util=100)
    cpu = next(
        f
        for f in findings(values, {**det, "proctable": table, "gpu.processes": ON_GPU})
        if f.rule == "host.cpu_saturated"
    )
    assert cpu.culprits[0].uses_gpu and cpu.culprits[0].python
    assert any("preprocessing to the GPU" in s for s in cpu.suggestions)
    assert cpu.next_step == "py-spy top --pid 77"


def test_gpu_verdicts_name_the_processes_on_that_gpu() -> None:
    values, det = box()
    f = findings(values, {**det, "proctable": TABLE, "gpu.processes": ON_GPU})[0]
    assert f.verdict == "compute-bound" and [c.pid for c in f.culprits] == [77]
    assert f.culprits[0].resource == "gpu" and f.culprits[0].share == 100.0
    assert "on GPU 0: pt_main_thread (PID 77, Python) 30.0 GiB of GPU memory" in f.evidence[-1]


def test_a_gpu_process_proc_does_not_show_is_named_by_pid_and_left_unjudged() -> None:
    values, det = box(gpu_over={"util": 30.0, "sm_active": 20.0}, cpu__util=99, cpu__core_max__util=100)
    f = next(f for f in findings(values, {**det, "gpu.processes": ON_GPU}) if f.rule == "gpu.starved_cpu")
    assert f.culprits[0].name == "?" and f.culprits[0].pid == 77
    assert "torch.profiler" in f.next_step  # unknown language: the rule's own step stays


def test_no_process_table_keeps_the_rules_own_advice() -> None:
    f = findings(host(psi__io__some10=30))[0]
    assert f.culprits == () and f.next_step.startswith("iostat")


def test_reports_show_the_culprits_of_live_recorded_advice() -> None:
    f = findings(host(cpu__util=99, cpu__core_max__util=100), {"proctable": TABLE})[0]
    [advice] = advice_from_details([advice_detail(Diagnosis(f.verdict, f.confidence, (f,)))])
    assert advice.culprits.startswith("sha256sum (PID 4242) 100 %, sha256sum (PID 4243) 100 %")
    report = build_report(open_recording(RECORDINGS / "base.sqlite"), diagnose=False)
    report = replace(report, diagnosis=replace(report.diagnosis, advice=(advice,)))
    assert f"Culprits: {advice.culprits}" in render_markdown(report, charts=False)
    assert "<p>Culprits: sha256sum (PID 4242) 100 %, sha256sum (PID 4243) 100 %" in render_html(report)
    assert "Next profiling step: `perf top -p 4242`" in render_markdown(report, charts=False)
