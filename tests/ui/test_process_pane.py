"""Pilot tests of the process pane: tree, stacks, the `v` switch, exit and py-spy messages."""

from __future__ import annotations

from typing import Any

from perftui.core.types import SourceStatus
from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp
from perftui.ui.screens.help import help_text
from perftui.ui.widgets.process_pane import ATTACH_HINT, ProcessPane
from perftui.ui.widgets.process_tree import share_bar
from tests.ui.conftest import make_app

GIB = 1024**3
PID = 4242


def attach_store(store: MetricStore, ts: float) -> None:
    """What the process and stacks samplers put in the store for a small training job."""
    store.set_status("process", SourceStatus.ok())
    store.set_status("stacks", SourceStatus.ok())
    store.set_detail(
        "proc.info",
        {"pid": PID, "name": "python", "cmdline": ["python", "train.py"], "status": "running"},
    )

    def row(
        pid: int, ppid: int, name: str, cpu: float | None, rss: float | None, state: str
    ) -> dict[str, Any]:
        return {"pid": pid, "ppid": ppid, "name": name, "cpu": cpu, "rss": rss, "state": state}

    tree: list[dict[str, Any]] = [
        row(4250, PID, "pt_data_worker", 35.0, 1.5 * GIB, "sleeping"),
        {**row(PID, 1, "python", 97.5, 6 * GIB, "running"), "gpu_mem_bytes": 30.0 * GIB},
        row(4251, PID, "pt_data_worker", 33.0, 1.4 * GIB, "disk-sleep"),
        row(4260, 4250, "tokenizer", None, None, "sleeping"),
    ]
    store.set_detail("proc.tree", tree)
    store.append(
        ts,
        {
            "proc.procs": 4.0,
            "proc.cpu": 165.5,
            "proc.rss_bytes": 8.9 * GIB,
            "proc.gpu_mem_bytes": 30.0 * GIB,
            "stack.share.dataloader": 44.0,
            "stack.share.compute": 31.0,
            "stack.share.cuda_sync": 20.0,
            "stack.share.idle": 5.0,
            "stack.share.socket": 0.0,
            "stack.samples": 200.0,
        },
    )
    store.set_detail(
        "stack.top",
        [
            {
                "function": "_try_get_data",
                "file": "/x/torch/utils/data/dataloader.py",
                "line": 1133,
                "self_pct": 0.0,
                "total_pct": 44.0,
            },
            {
                "function": "forward",
                "file": "/work/model.py",
                "line": 88,
                "self_pct": 31.0,
                "total_pct": 51.0,
            },
        ],
    )
    store.set_detail("stack.window", {"seconds": 10.0, "dumps": 50})


def attached_app() -> tuple[PerftuiApp, MetricStore]:
    app, store, _ = make_app(1)
    assert store.last_ts is not None
    attach_store(store, store.last_ts)
    return app, store


def footer_keys(app: PerftuiApp) -> set[str]:
    return {key for key, b in app.active_bindings.items() if b.binding.show and b.enabled}


def pane_text(app: PerftuiApp) -> str:
    return "\n".join(app.query_one(ProcessPane).lines)


async def test_tree_shows_each_process_with_cpu_rss_gpu_and_state() -> None:
    app, _ = attached_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        lines = pane.lines
        assert pane.attached and pane.border_title == "Process tree"
        assert lines[0].startswith(f"PID {PID} python") and "4 procs" in lines[0] and "CPU 166%" in lines[0]
        assert "GPU 30.0 GiB" in lines[0]
        rows = [ln for ln in lines if ln.strip()[:4].isdigit()]
        # depth first from the root, children by PID, indented under their parent
        assert [r.split()[0] for r in rows] == [str(PID), "4250", "4260", "4251"]
        root = rows[0]
        assert "98" in root and "6.0 GiB" in root and "30.0 GiB" in root and root.endswith("R python")
        assert rows[2].endswith("S     tokenizer") and " — " in rows[2]  # no CPU yet: a dash, not 0
        assert rows[3].split()[-2] == "D"


async def test_v_switches_between_tree_and_stacks_and_back() -> None:
    app, _ = attached_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        assert pane.view == "stacks" and pane.border_title == "Stacks"
        text = pane_text(app)
        assert "stack samples over 10 s (200)" in text
        bars = [ln for ln in pane.lines if "█" in ln or "░" in ln]
        assert [b.split()[0] for b in bars] == ["dataloader", "compute", "cuda_sync", "idle"]
        assert share_bar(44.0) in bars[0] and bars[0].endswith("44%")
        assert "socket" not in text  # a zero share is not a bar
        assert "_try_get_data dataloader.py:1133" in text and "forward model.py:88" in text
        fwd = next(ln for ln in pane.lines if "forward" in ln)
        assert fwd.split()[:2] == ["31", "51"]
        await pilot.press("v")
        await pilot.pause()
        assert pane_text(app).startswith(f"PID {PID}")
        assert str(pane.view) == "tree"  # (str: mypy narrowed the Literal above)


async def test_v_is_in_the_footer_only_when_attached() -> None:
    plain, _, _ = make_app(1)
    async with plain.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        assert "v" not in footer_keys(plain)
        await pilot.press("v")  # not attached: nothing happens
        await pilot.pause()
        assert plain.query_one(ProcessPane).view == "tree"
    app, _ = attached_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        assert "v" in footer_keys(app)
    assert "v " in help_text() and "stacks" in help_text()


async def test_exit_message_and_samples_kept() -> None:
    app, store = attached_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        msg = f"process {PID} exited with status 3 at 12:00:05"
        store.set_status("process", SourceStatus.unavailable(msg))
        store.set_detail("proc.tree", [])
        assert store.last_ts is not None
        store.append(store.last_ts + 1, {"cpu.util": 10.0})
        app.dashboard.refresh_view()
        await pilot.pause()
        lines = app.query_one(ProcessPane).lines
        assert msg in lines and any("samples so far are kept" in ln for ln in lines)
        assert store.latest("proc.rss_bytes") is not None  # what was sampled is still there


async def test_py_spy_error_is_the_stacks_reason() -> None:
    app, store = attached_app()
    reason = "py-spy cannot attach: ptrace is not permitted (kernel.yama.ptrace_scope=1)"
    store.set_status("stacks", SourceStatus.unavailable(reason))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        assert f"stacks unavailable: {reason}" in app.query_one(ProcessPane).lines


async def test_not_attached_keeps_gpu_processes_then_the_hint() -> None:
    app, store, _ = make_app(1)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        pane = app.query_one(ProcessPane)
        assert not pane.attached and pane.border_title == "Processes"
        assert "41000" in pane_text(app)
        store.set_detail("gpu.processes", [])
        assert store.last_ts is not None
        store.append(store.last_ts + 1, {"cpu.util": 1.0})
        app.dashboard.refresh_view()
        await pilot.pause()
        assert pane.lines == []
        assert " ".join(pane.plain_lines) == ATTACH_HINT


async def test_exit_recomputes_the_diagnosis_at_once() -> None:
    """The verdict runs every 2 s; an attached process exiting (or a detach) runs it on the next frame."""
    from perftui.diagnosis.tracker import DiagnosisTracker

    tracker = DiagnosisTracker(hold_s=3.0)
    calls: list[float] = []
    real = tracker.update

    def counted(store: MetricStore, seconds: float) -> object:
        calls.append(seconds)
        return real(store, seconds)

    tracker.update = counted  # type: ignore[method-assign,assignment]
    app, store, _ = make_app(1, tracker=tracker)
    assert store.last_ts is not None
    attach_store(store, store.last_ts)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        before = len(calls)
        assert before >= 1
        store.append(store.last_ts + 0.1, {"cpu.util": 11.0})  # a new frame within the 2 s period
        app.dashboard.refresh_view()
        assert len(calls) == before  # no process change: the 2 s cadence holds
        store.set_detail("proc.info", {"pid": PID, "name": "python", "status": "exited", "exit_code": 3})
        store.append(store.last_ts + 0.1, {"cpu.util": 12.0})
        app.dashboard.refresh_view()
        assert len(calls) == before + 1  # the exit ran the diagnosis at once
