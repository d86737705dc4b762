"""Text and JSON renderings of a Diagnosis."""

from __future__ import annotations

import json

from perftui.diagnosis.model import Diagnosis
from perftui.diagnosis.render import diagnosis_json, finding_lines, headline, render_lines, timeline_lines
from perftui.diagnosis.tracker import DiagnosisTracker
from tests.diagnosis.windows import box, findings, host, window


def _diag() -> tuple[Diagnosis, DiagnosisTracker]:
    t = DiagnosisTracker(hold_s=1.0)
    t.observe(0.0, window(host(cpu__util=2, cpu__core_max__util=3)))
    values, details = box({"sm_active": 31}, cpu__core_max__util=99)
    w = window(values, details)
    t.observe(1.0, w)
    return t.observe(2.0, w), t


def test_headline_and_lines() -> None:
    d, t = _diag()
    assert headline(d) == "cpu-bound (high confidence): GPU 0 kernel-launch-bound (CPU-bound host thread)"
    lines = render_lines(d, timeline=t.timeline)
    assert lines[0] == "Verdict: " + headline(d)
    assert "Evidence:" in lines and "Suggestions:" in lines
    assert any(ln.startswith("Next step: nsys profile") for ln in lines)
    assert "  - SM active 31 % while GPU utilisation 97 %; one core at 99 % over the last 10 s" in lines
    assert "Timeline:" in lines and sum("idle (high)" in ln for ln in lines) == 1
    assert len([ln for ln in lines if ln.startswith("  - ") and "Capture" in ln]) == 1


def test_limits_on_evidence_and_suggestions() -> None:
    d, _ = _diag()
    lines = render_lines(d, evidence=1, suggestions=1, others=False)
    assert lines.count("Evidence:") == 1
    ev_at = lines.index("Evidence:")
    assert lines[ev_at + 2] == "Suggestions:" and lines[ev_at + 4].startswith("Next step:")
    assert "Other findings:" not in lines


def test_finding_lines_and_timeline_lines() -> None:
    f = findings(host(cpu__util=99, cpu__core_max__util=100))[0]
    lines = finding_lines(f, suggestions=2)
    assert lines[0] == f"cpu-bound (high): {f.title}"
    assert lines[-1].startswith("  next: perf stat")
    assert len([ln for ln in lines if ln.startswith("    * ")]) == 2
    _, t = _diag()
    tl = timeline_lines(t.timeline)
    assert len(tl) == 2 and tl[1].endswith(
        "cpu-bound (high): GPU 0 kernel-launch-bound (CPU-bound host thread)"
    )


def test_json_shape() -> None:
    d, t = _diag()
    out = diagnosis_json(d, t.timeline)
    json.dumps(out)
    assert {"verdict", "confidence", "evidence", "suggestions", "next_step", "findings", "timeline"} <= set(
        out
    )
    assert out["verdict"] == "cpu-bound" and out["evidence"][0].startswith("SM active 31 %")
    assert out["findings"][0]["rule"] == "gpu.launch_bound"
    assert [e["verdict"] for e in out["timeline"]] == ["idle", "cpu-bound"]


def test_empty_diagnosis_renders() -> None:
    d = Diagnosis("none", "low")
    assert render_lines(d) == ["Verdict: none (low confidence)"]
    assert diagnosis_json(d)["evidence"] == []
