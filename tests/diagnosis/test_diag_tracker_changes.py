"""The tracker's timeline beyond verdict labels: title, confidence and co-bottleneck changes; the
attached process exiting; evidence that names its window (issue 24, item 1)."""

from __future__ import annotations

from perftui.diagnosis.engine import CO_MARGIN, co_bottleneck, diagnose, window_phrase
from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.diagnosis.window import DiagnosisWindow
from perftui.store.metric_store import MetricStore
from tests.diagnosis.windows import host, window

ONE_CORE = window(host(cpu__util=55, cpu__core_max__util=99))
ALL_CORES = window(host(cpu__util=99, cpu__core_max__util=100, psi__cpu__some10=40))
IO = window(host(psi__io__some10=25, cpu__iowait=28))
IO_AND_CORE = window(host(psi__io__some10=25, cpu__iowait=28, cpu__util=55, cpu__core_max__util=99))


def test_co_bottleneck_is_the_strong_second_finding_of_another_resource() -> None:
    fs = diagnose(IO_AND_CORE)
    assert fs[0].verdict == "io-bound"
    co = co_bottleneck(fs)
    assert co is not None and (co.verdict, co.rule) == ("cpu-bound", "host.core_saturated")
    assert fs[0].score - co.score <= CO_MARGIN
    assert co_bottleneck(diagnose(IO)) is None  # alone: nothing beside it
    assert co_bottleneck(diagnose(window(host(cpu__util=3, cpu__core_max__util=5)))) is None  # idle


def test_a_change_of_title_under_the_same_verdict_is_logged_once_it_holds() -> None:
    t = DiagnosisTracker(hold_s=3.0)
    for ts in range(0, 6):
        t.observe(float(ts), ONE_CORE)
    for ts in range(6, 9):  # not yet held for 3 s: not logged
        t.observe(float(ts), ALL_CORES)
    assert [e.title for e in t.timeline] == ["one core saturated (99 %)"]
    t.observe(9.0, ALL_CORES)
    assert [(e.ts, e.verdict) for e in t.timeline] == [(0.0, "cpu-bound"), (6.0, "cpu-bound")]
    assert t.timeline[-1].title.startswith("CPU saturated") and t.timeline[-1].confidence == "high"
    for ts in range(10, 20):  # the same rule with moving numbers logs nothing more
        t.observe(float(ts), window(host(cpu__util=95 + ts % 4, cpu__core_max__util=100)))
    assert len(t.timeline) == 2


def test_a_co_bottleneck_appearing_is_logged_with_the_verdict() -> None:
    t = DiagnosisTracker(hold_s=3.0)
    for ts in range(0, 5):
        t.observe(float(ts), IO)
    for ts in range(5, 10):
        t.observe(float(ts), IO_AND_CORE)
    assert [(e.ts, e.verdict, e.also_verdict) for e in t.timeline] == [
        (0.0, "io-bound", ""),
        (5.0, "io-bound", "cpu-bound"),
    ]
    assert t.timeline[-1].headline.endswith("; also cpu-bound: one core saturated (99 %)")


def _proc_store() -> MetricStore:
    store = MetricStore(capacity=64)
    store.set_detail("proc.info", {"pid": 4242, "name": "train", "status": "running"})
    for ts in range(0, 8):
        store.append(
            float(ts), {**_flat(host(cpu__util=55, cpu__core_max__util=99)), "proc.cpu_max_thread": 99.0}
        )
    return store


def _flat(values: dict[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float))}


def test_when_the_attached_process_exits_its_figures_clear_and_the_verdict_is_recomputed_at_once() -> None:
    store = _proc_store()
    t = DiagnosisTracker(hold_s=3.0)
    for ts in range(0, 8):
        t.observe(float(ts), DiagnosisWindow.from_store(store, 10.0, ("*",), now=float(ts)))
    assert t.current.primary is not None and t.current.primary.subject == "proc"  # the process's busiest
    store.set_detail("proc.info", {"pid": 4242, "name": "train", "status": "exited", "exit_code": 0})
    store.append(8.0, _flat(host(cpu__util=3, cpu__core_max__util=4)))
    w = DiagnosisWindow.from_store(store, 10.0, ("*",), now=8.0)
    assert not w.has("proc.cpu_max_thread")  # its last figures do not outlive it
    d = t.update(store, 10.0)
    assert d.primary is not None and d.primary.subject != "proc"
    assert t.timeline[-1].ts == 8.0 and t.pending is None  # at once, not after the hold


def test_evidence_names_the_window_it_covers() -> None:
    store = MetricStore(capacity=64)
    for ts in range(0, 4):
        store.append(100.0 + ts, _flat(host(cpu__util=99, cpu__core_max__util=100)))
    w = DiagnosisWindow.from_store(store, 10.0, ("*",))
    assert window_phrase(w) == "over the last 3 s"  # young data: what it really covers
    assert diagnose(w)[0].evidence[0].endswith("over the last 3 s")
    for ts in range(4, 20):
        store.append(100.0 + ts, _flat(host(cpu__util=99, cpu__core_max__util=100)))
    w = DiagnosisWindow.from_store(store, 10.0, ("*",))
    assert diagnose(w)[0].evidence[0] == "CPU 99 % across 8 cores (busiest core 100 %) over the last 10 s"
    one = MetricStore(capacity=8)
    one.append(5.0, _flat(host(cpu__util=99, cpu__core_max__util=100)))
    assert window_phrase(DiagnosisWindow.from_store(one, 10.0, ("*",))) == "from one sample"


def test_a_held_verdict_says_the_engine_ranks_another_first() -> None:
    from perftui.diagnosis.render import held_against, render_text

    t = DiagnosisTracker(hold_s=3.0)
    for ts in range(0, 5):
        t.observe(float(ts), ONE_CORE)
    d = t.observe(5.0, IO_AND_CORE)  # io-bound outranks the core now, but has not held 3 s yet
    assert d.verdict == "cpu-bound" and t.pending == ("io-bound", 5.0)
    assert held_against(d) == "io-bound"
    assert "Held: the engine now ranks io-bound first" in render_text(d)
    assert held_against(t.observe(8.0, IO_AND_CORE)) == ""  # shown now: nothing held
