"""Rules driven by an attached process's stack-category shares (synthetic windows; guarded on presence)."""

from __future__ import annotations

import pytest

from perftui.core.specs_proc import STACK_CATEGORIES
from perftui.diagnosis.rules import RULES
from tests.diagnosis.windows import box, const, findings, hits, host

EPS = 0.01

SHARE_RULES = [
    ("stack.collective", "collective", "communication-bound"),
    ("stack.dataloader", "dataloader", "io-bound"),
    ("stack.disk_read", "disk_read", "io-bound"),
    ("stack.tokenization", "tokenization", "cpu-bound"),
    ("stack.gil", "gil", "cpu-bound"),
    ("stack.socket_wait", "socket_wait", "network-bound"),
]


def test_every_stack_rule_reads_a_known_category() -> None:
    for r in RULES:
        if r.id.startswith("stack.") and r.id != "stack.python_compute":
            assert r.id.split(".", 1)[1] in STACK_CATEGORIES


def test_nothing_fires_without_an_attached_process() -> None:
    assert [f for f in findings(host(cpu__util=50)) if f.rule.startswith("stack.")] == []


@pytest.mark.parametrize(("rule", "category", "verdict"), SHARE_RULES)
def test_share_bands(rule: str, category: str, verdict: str) -> None:
    key = f"stack.share.{category}"
    v = host(cpu__util=40)
    v["stack.samples"] = const(150)  # 150 samples in the stack window (the last value is quoted)
    assert hits(rule, {**v, key: 5 - EPS}) == []
    [moderate] = hits(rule, {**v, key: 5})
    [still_moderate] = hits(rule, {**v, key: 20 - EPS})
    [high] = hits(rule, {**v, key: 20})
    assert moderate.base is not None and still_moderate.base is not None and moderate.confidence == "medium"
    assert high.base is None and high.confidence == "high"
    f = findings({**v, key: const(45)})[0]
    assert (f.verdict, f.rule) == (verdict, rule)
    assert "45 %" in f.evidence[0] and "(150 stack samples)" in f.evidence[0]


def test_few_samples_lower_confidence() -> None:
    v = host()
    v["stack.share.dataloader"] = const(60)
    v["stack.samples"] = const(40)  # 40 each tick: 40 samples, not 40 times the ticks
    [h] = hits("stack.dataloader", v)
    assert h.confidence == "medium"
    assert "(40 stack samples, few: shares ±15 %)" in h.evidence[0]


def test_dataloader_wait_on_a_gpu_box_is_io_bound_with_pid_in_next_step() -> None:
    values, details = box({"util": 35, "sm_active": 25})
    values["stack.share.dataloader"] = const(40)
    values["stack.samples"] = const(100)
    details["proc.info"] = {"pid": 4242, "name": "python"}
    f = findings(values, details)[0]
    assert f.verdict == "io-bound" and f.rule == "stack.dataloader"
    assert f.next_step == "py-spy record --pid 4242 --idle --rate 100 --duration 30 -o perftui_profile.svg"
    assert any("num_workers" in s for s in f.suggestions)


def test_gil_next_step_uses_gil_mode() -> None:
    v = host()
    v["stack.share.gil"] = const(30)
    f = findings(v)[0]
    assert f.verdict == "cpu-bound" and "--gil" in f.next_step and "<pid>" not in f.next_step


def test_cuda_sync_is_a_low_confidence_gpu_side_hint() -> None:
    v = host()
    assert hits("stack.cuda_sync", {**v, "stack.share.cuda_sync": 20 - EPS}) == []
    [h] = hits("stack.cuda_sync", {**v, "stack.share.cuda_sync": 20})
    assert h.confidence == "low"
    # with GPM counters saying compute-bound, the counters win
    values, details = box({})
    values["stack.share.cuda_sync"] = const(60)
    assert findings(values, details)[0].rule == "gpu.compute_bound"


def test_python_compute_bound_boundaries() -> None:
    v = host(cpu__util=30)
    v["proc.cpu_max_thread"] = const(99)
    assert hits("stack.python_compute", {**v, "stack.share.compute": 50 - EPS}) == []
    assert len(hits("stack.python_compute", {**v, "stack.share.compute": 50})) == 1
    assert (
        hits("stack.python_compute", {**v, "stack.share.compute": 80, "proc.cpu_max_thread": 90 - EPS}) == []
    )
    # a busy GPU: the GPU rules speak, not this one
    values, details = box({})
    values.update({"stack.share.compute": const(80), "proc.cpu_max_thread": const(99)})
    assert hits("stack.python_compute", values, details) == []


def test_idle_process() -> None:
    v = host(cpu__util=12, cpu__core_max__util=20)
    v["proc.cpu"] = const(0.5)
    assert hits("stack.idle", {**v, "stack.share.idle": 80 - EPS}) == []
    [h] = hits("stack.idle", {**v, "stack.share.idle": 80})
    assert h.subject == "proc"
    f = findings({**v, "stack.share.idle": const(95)})[0]
    assert f.verdict == "idle" and f.next_step.startswith("py-spy dump --pid")
