"""The dashboard's span-by-span partial updates draw exactly what Textual's full render draws.

Each frame's update is checked cell by cell against a fresh full render of the screen; a toast
over a panel must send the frame back to Textual's own path; toasts that stack up and expire must
leave the terminal showing what Textual's full render shows (no ghosts, issue 24).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from rich.console import Console
from rich.segment import ControlType, Segment
from textual.app import App
from textual.geometry import Region
from textual.strip import Strip

from perftui.store.metric_store import MetricStore
from perftui.ui.app import create_app
from perftui.ui.options import AppOptions, TestKnobs
from perftui.ui.span_compositor import SpanCompositor, SpanUpdate
from tests.ui.fakes import HOSTNAME, FakeClock, fill_store


def _cells(strip: Strip) -> list[tuple[str, Any]]:
    return [(ch, seg.style) for seg in strip if not seg.control for ch in seg.text]


class Recorder:
    """Wraps the screen's compositor to keep each partial update it returns."""

    def __init__(self, compositor: SpanCompositor) -> None:
        self.compositor = compositor
        self.updates: list[Any] = []
        original = compositor.render_partial_update

        def record() -> Any:
            update = original()
            if update is not None:
                self.updates.append(update)
            return update

        compositor.render_partial_update = record  # type: ignore[method-assign]

        self.terminal: list[list[tuple[str, Any]]] | None = None  # what the terminal shows

    def check_span_updates(self) -> int:
        """Compare every piece of the recorded span updates with a full render, and the terminal
        those pieces leave (applied to the last full picture) with the full render; count cells."""
        full = self.compositor.render_strips()
        checked = 0
        for update in self.updates:
            if not isinstance(update, SpanUpdate):
                self.terminal = None  # Textual's own update: trust it, start from the full picture
                continue
            for x, y, strip in update.pieces:
                expect = _cells(full[y].crop(x, x + strip.cell_length))
                assert _cells(strip) == expect, (x, y, strip.text)
                checked += len(expect)
                if self.terminal is not None:
                    self.terminal[y][x : x + len(expect)] = expect
        picture = [_cells(line) for line in full]
        if self.terminal is not None:  # nothing changed on screen without being redrawn
            stale = [y for y, (a, b) in enumerate(zip(self.terminal, picture, strict=True)) if a != b]
            assert not stale, [
                (y, x, self.terminal[y][x], picture[y][x])
                for y in stale[:3]
                for x in range(len(picture[y]))
                if self.terminal[y][x] != picture[y][x]
            ][:4]
        self.terminal = picture
        self.updates.clear()
        return checked


@pytest.mark.parametrize(("size", "gpus"), [((200, 50), 0), ((200, 50), 8), ((80, 24), 1), ((120, 40), 2)])
async def test_span_updates_match_the_full_render(size: tuple[int, int], gpus: int) -> None:
    store = MetricStore()
    last = fill_store(store, gpus, seconds=40)
    clock = FakeClock(last)
    app = create_app(
        store, None, AppOptions(hostname=HOSTNAME, interval=1.0), TestKnobs(live_timer=False, clock=clock)
    )
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, SpanCompositor)
        recorder = Recorder(compositor)
        cells = 0
        for _ in range(12):
            last = fill_store(store, gpus, seconds=1, t0=last + 1.0)
            clock.now = last
            app.dashboard.refresh_view()
            await pilot.pause()
            cells += recorder.check_span_updates()  # after each frame: the screen as it is now
        assert compositor.span_frames >= 10
        assert cells > 200


async def test_toasts_over_a_panel_send_the_frame_to_textual() -> None:
    store = MetricStore()
    last = fill_store(store, 1, seconds=40)
    clock = FakeClock(last)
    app = create_app(
        store,
        None,
        AppOptions(hostname=HOSTNAME, interval=1.0),
        TestKnobs(live_timer=False, clock=clock, use_tracker=False),
    )
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, SpanCompositor)
        for i in range(4):  # toasts stack up from the bottom right, over the GPU panel
            app.notify(f"message {i}: " + "words " * 8, timeout=60)
        await pilot.pause(0.3)
        gpu = app.query_one("#gpu-0").region
        toasts = [w.region for w in app.screen.query("Toast")]
        assert any(gpu.overlaps(t) for t in toasts), (gpu, toasts)
        recorder = Recorder(compositor)
        fallbacks = compositor.fallback_frames
        for _ in range(6):
            last = fill_store(store, 1, seconds=1, t0=last + 1.0)
            clock.now = last
            app.dashboard.refresh_view()
            await pilot.pause(0.1)
            for update in recorder.updates:  # nothing is drawn over a toast...
                for x, y, strip in getattr(update, "pieces", []):
                    piece = Region(x, y, strip.cell_length, 1)
                    assert not any(piece.overlaps(t) for t in toasts), (piece, toasts)
            recorder.check_span_updates()  # ...and what is drawn is what Textual draws
        assert compositor.fallback_frames > fallbacks  # the GPU panel changed under a toast


def test_a_span_update_moves_the_cursor_to_each_piece_then_writes_it() -> None:
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style

    bold = Style(bold=True)
    update = SpanUpdate([(3, 2, Strip([Segment("ab", bold)], 2)), (0, 0, Strip([Segment("c")], 1))])
    out = update.render_segments(Console(color_system="truecolor", force_terminal=True))
    # CSI row;col H is 1-based: (x=3, y=2) is row 3, column 4
    assert out == "\x1b[3;4H\x1b[1mab\x1b[0m" + "\x1b[1;1Hc"


class Terminal:
    """What a terminal shows after each update the app writes (every kind: Textual's and ours)."""

    def __init__(self, width: int, height: int) -> None:
        self.cells: list[list[tuple[str, Any]]] = [[(" ", None)] * width for _ in range(height)]
        self.console = Console(width=width, height=height, force_terminal=True, color_system="truecolor")

    def _write(self, segments: list[Segment], x: int = 0, y: int = 0) -> None:
        for seg in segments:
            if seg.control:
                for code in seg.control:
                    if code[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = int(code[1]), int(code[2])  # type: ignore[misc]
                continue
            for ch in seg.text.replace("\n", ""):
                if 0 <= y < len(self.cells) and 0 <= x < len(self.cells[y]):
                    self.cells[y][x] = (ch, seg.style)
                x += 1

    def apply(self, update: Any) -> None:
        if isinstance(update, SpanUpdate):
            for x, y, strip in update.pieces:
                self._write(list(strip), x, y)
        else:  # Textual's LayoutUpdate / ChopsUpdate: the segments and cursor moves they write
            self._write(list(update.__rich_console__(self.console, self.console.options)))

    def differences(self, full: list[Strip]) -> list[tuple[int, int, str, str]]:
        picture = [_cells(line) for line in full]
        return [
            (y, x, shown[0], want[0])
            for y, (row, want_row) in enumerate(zip(self.cells, picture, strict=True))
            for x, (shown, want) in enumerate(zip(row, want_row, strict=True))
            if shown != want
        ]


def _watch_terminal(app: App[Any], size: tuple[int, int]) -> Terminal:
    """Send every update the app displays to a Terminal (run_test's headless app writes none)."""
    terminal = Terminal(*size)

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None and not app._batch_count:
            terminal.apply(renderable)

    app._display = display  # type: ignore[method-assign]
    return terminal


@pytest.mark.parametrize("lookup_before_layout", [False, True])
async def test_expired_toasts_leave_no_ghosts(lookup_before_layout: bool) -> None:
    """Eight toasts pile up over the panels (more than the screen holds, so the rack scrolls) and
    expire newest first, so the older ones move down as each goes, while the panels tick. With
    `lookup_before_layout`, Textual's layout map is rebuilt before each reflow, as any
    `widget.region` look-up (mouse hover, scroll_visible) between a DOM change and the layout does:
    the reflow then reports nothing moved, and only the span compositor's own record of what the
    toasts covered gets those cells repainted."""
    size = (80, 24)
    store = MetricStore()
    last = fill_store(store, 1, seconds=40)
    clock = FakeClock(last)
    app = create_app(
        store,
        None,
        AppOptions(hostname=HOSTNAME, interval=1.0),
        TestKnobs(live_timer=False, clock=clock, use_tracker=False),
    )
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, SpanCompositor)
        terminal = _watch_terminal(app, size)
        app.screen.refresh()  # a full frame to start the terminal from
        await pilot.pause()
        if lookup_before_layout:
            reflow = compositor.reflow

            def reflow_after_lookup(parent: Any, size: Any) -> Any:
                compositor._full_map_invalidated = True
                assert compositor.full_map  # what Screen.find_widget does for widget.region
                return reflow(parent, size)

            compositor.reflow = reflow_after_lookup
        for i in range(8):
            app.notify(f"theme: {i} " + "word " * (3 * i), timeout=1.6 - 0.15 * i)
            await pilot.pause(0.05)
        await pilot.pause(0.1)
        panels = [app.query_one(f"#{name}").region for name in ("gpu-0", "cpu")]
        toasts = [w.region for w in app.screen.query("Toast")]
        assert len(toasts) >= 6 and any(p.overlaps(t) for p in panels for t in toasts), toasts
        deadline = time.monotonic() + 20
        while app.screen.query("Toast") and time.monotonic() < deadline:
            last = fill_store(store, 1, seconds=1, t0=last + 1.0)
            clock.now = last
            app.dashboard.refresh_view()
            await pilot.pause(0.1)
        assert not app.screen.query("Toast")
        app.dashboard.refresh_view()
        await pilot.pause(0.1)
        stale = terminal.differences(compositor.render_strips())
        assert not stale, stale[:12]
        assert compositor.span_frames > 0  # the span path drew frames between the expiries
