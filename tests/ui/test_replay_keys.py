"""`perftui replay`: the process pane of a recording without a process does not tell the user to run --pid;
the up/down arrows move between panels as live (left/right seek)."""

from __future__ import annotations

from dataclasses import replace

from perftui.store.reader import Recording
from perftui.ui.widgets.process_pane import REPLAY_HINT, ProcessPane
from tests.ui.test_replay_app import make, rec  # noqa: F401  (rec is the module's fixture)


async def test_the_process_pane_of_a_replay_does_not_say_run_pid(rec: Recording) -> None:  # noqa: F811
    bare = replace(rec, details=[d for d in rec.details if not d.name.startswith(("gpu.processes", "proc."))])
    app, _ = make(bare)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.dashboard.replay_step(1.0)
        await pilot.pause()
        text = " ".join(app.query_one(ProcessPane).plain_lines)
        assert REPLAY_HINT.split(" (")[0] in text and "run perftui --pid" not in text


async def test_up_and_down_move_focus_in_a_replay(rec: Recording) -> None:  # noqa: F811
    app, _ = make(rec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "cpu"
        await pilot.press("down")
        assert app.focused is not None and app.focused.id == "memory"
        await pilot.press("up")
        assert app.focused is not None and app.focused.id == "cpu"
