"""`k` in the process list is offered only for processes the user may signal (their own, or any as
root): on another user's process the footer shows "Kill: not yours" and `k` says why instead of
opening a confirmation that would fail. The browser-mode refusal stays as it is."""

from __future__ import annotations

import dataclasses
import os
import pwd

import pytest

from perftui.samplers.proctable import ProcRow
from perftui.ui.app import PerftuiApp
from perftui.ui.options import WEB_ACTIONS_ENV
from perftui.ui.screens.kill import KillScreen
from perftui.ui.widgets.process_list import ListRow, Signaller, parse_rows
from tests.ui.test_process_list import TABLE, list_app, notes_of, pane_of, row

MINE = row(3001, "mine", 99.5, 0.1, user="ci")
THEIRS = row(3002, "theirs", 99.0, 0.1, user="postgres")
NUMERIC = row(3003, "nameless", 98.0, 0.1, user="1234")  # a UID without a passwd entry
CI = Signaller("ci", 1001, root=False)


def listed(r: ProcRow) -> ListRow:
    return parse_rows({"rows": [dataclasses.asdict(r)]})[0]


def test_the_rule_same_user_or_root() -> None:
    assert CI.refusal(listed(MINE)) is None
    why = CI.refusal(listed(THEIRS))
    assert why is not None and "theirs (PID 3002, user postgres)" in why and "you are ci" in why
    assert Signaller("x", 1234, root=False).refusal(listed(NUMERIC)) is None  # same UID, listed as a number
    assert CI.refusal(listed(NUMERIC)) is not None
    root = Signaller("root", 0, root=True)
    assert all(root.refusal(listed(r)) is None for r in (MINE, THEIRS, NUMERIC))


def test_current_is_the_effective_user() -> None:
    me = Signaller.current()
    assert me.uid == os.geteuid() and me.root == (os.geteuid() == 0)
    assert me.user == pwd.getpwuid(os.geteuid()).pw_name


def footer(app: PerftuiApp) -> dict[str, str]:
    return {k: b.binding.description for k, b in app.active_bindings.items() if b.binding.show and b.enabled}


async def test_k_on_another_users_process_says_why_and_asks_nothing() -> None:
    app, _ = list_app(1, [MINE, THEIRS, *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane = pane_of(app)
        pane.signaller = CI  # perftui run by the user "ci", not root
        pane.focus()
        app.dashboard.refresh_view()
        await pilot.pause()
        assert pane.plist.current is not None and pane.plist.current.pid == 3001
        assert footer(app)["k"] == "Kill" and str(pane.border_subtitle).endswith("k kill")
        await pilot.press("down")  # theirs
        await pilot.pause()
        assert footer(app)["k"] == "Kill: not yours" and str(pane.border_subtitle).endswith("k: not yours")
        await pilot.press("k")
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen)
        assert notes and "belongs to postgres" in notes[-1] and "you are ci" in notes[-1]
        await pilot.press("up", "k")  # back on its own process: the confirmation as before
        await pilot.pause()
        assert isinstance(app.screen, KillScreen) and "mine (PID 3001, user ci)" in app.screen.text
        await pilot.press("escape")
        await pilot.pause()
        assert footer(app)["k"] == "Kill"


async def test_root_may_signal_any_process() -> None:
    app, _ = list_app(1, [THEIRS, *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        pane = pane_of(app)
        pane.signaller = Signaller("root", 0, root=True)
        pane.focus()
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, KillScreen) and "theirs (PID 3002, user postgres)" in app.screen.text


async def test_browser_mode_refusal_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEB_ACTIONS_ENV, "0")  # as `perftui web` without --allow-actions sets it
    app, _ = list_app(1, [MINE, *TABLE])
    async with app.run_test(size=(200, 50)) as pilot:
        notes = notes_of(app)
        await pilot.pause()
        pane = pane_of(app)
        pane.signaller = CI
        pane.focus()
        await pilot.press("k")
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen)
        assert notes[-1].startswith("killing a process is off in browser mode")
