"""The dashboard's layout (issue 24 items 3 and 7): panels as tall as their content, the rows left
to the diagnosis, its full view (Enter) and scrolling (PageUp/PageDown); no GPU box without GPUs;
disk IOPS/await and NIC packets/errors/drops; the busiest core said so; per-core bars; a value
column that does not move the sparklines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.ui.layout import bottom_rows
from perftui.ui.screens.diagnosis import DiagnosisScreen
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.metric_panel import MetricPanel
from tests.ui.conftest import make_app
from tests.ui.fakes import NO_DRIVER, fill_store


async def settle(pilot: Pilot[Any], cond: Callable[[], bool], tries: int = 50) -> bool:
    """Pause the app until `cond` holds (a layout change takes a refresh or two)."""
    for _ in range(tries):
        if cond():
            return True
        await pilot.pause(0.02)
    return cond()


def blank_rows(panel: MetricPanel) -> int:
    return sum(1 for line in panel.plain_lines() if not line.strip())


async def test_the_diagnosis_gets_the_rows_the_panels_do_not_need() -> None:
    app, _, _ = make_app(0, tracker=DiagnosisTracker(hold_s=0.0))
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        pane = app.query_one(DiagnosisPane)
        assert await settle(pilot, lambda: pane.outer_size.height >= pane.natural_height())
        assert pane.diagnosis is not None and pane.diagnosis.primary is not None
        shown = pane.plain_lines
        # every line fits, the next-step command included (it never showed at 200x50 before)
        assert len(shown) <= pane.content_size.height
        assert any(line.strip().startswith("next:") for line in shown)
        assert pane.outer_size.height > 8  # more than the old fixed 6 lines + border
        for pid in ("cpu", "memory", "net"):  # were 9-11 empty rows each
            assert blank_rows(app.query_one(f"#{pid}", MetricPanel)) <= 4, pid


def test_bottom_rows_take_what_the_panels_leave_within_a_share() -> None:
    assert bottom_rows(50, body_want=22, bottom_want=12) == 26  # every row the panels leave
    assert bottom_rows(50, body_want=45, bottom_want=30) == 48 * 40 // 100  # squeezed: its share
    assert bottom_rows(50, body_want=45, bottom_want=3) == 8  # never under the floor
    assert bottom_rows(24, body_want=40, bottom_want=20) == 6  # a small terminal keeps its panels


async def test_enter_on_the_diagnosis_opens_the_full_view() -> None:
    app, _, _ = make_app(1, tracker=DiagnosisTracker(hold_s=0.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        pane = app.query_one(DiagnosisPane)
        diag = pane.diagnosis
        assert diag is not None and diag.primary is not None
        app.set_focus(pane)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiagnosisScreen)
        text = "\n".join(screen.lines)
        for finding in diag.findings:  # every finding with its evidence and suggestions
            assert finding.title in text
            assert all(ev in text for ev in finding.evidence)
            assert all(s in text for s in finding.suggestions)
        assert "Next command (c copies it):" in text and diag.primary.next_step in text
        assert "Verdict timeline:" in text
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == diag.primary.next_step
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_page_keys_scroll_a_diagnosis_that_does_not_fit() -> None:
    app, _, _ = make_app(1, tracker=DiagnosisTracker(hold_s=0.0))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        pane = app.query_one(DiagnosisPane)
        await settle(pilot, lambda: pane.content_size.height > 0 and "more" in str(pane.border_subtitle))
        total, height = len(pane.plain_lines), pane.content_size.height
        assert total > height, "the fixture's diagnosis should not fit at 100x30"
        assert "more: PgUp/PgDn" in str(pane.border_subtitle)
        first = pane.render_line(0).text
        app.set_focus(pane)
        await pilot.press("pagedown")
        await pilot.pause()
        assert pane.top > 0 and pane.render_line(0).text != first
        assert pane.render_line(0).text.strip() == pane.plain_lines[pane.top].strip()
        await pilot.press("pageup")
        await pilot.pause()
        assert pane.top == 0 and pane.render_line(0).text == first


async def test_no_gpu_box_with_no_gpu_flag_the_header_says_so() -> None:
    app, _, _ = make_app(0, gpu_enabled=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not app.query("#gpus MetricPanel") and not app.query_one("#gpus").display
        header = app.dashboard.query_one("#header").text  # type: ignore[attr-defined]
        assert "GPU off (--no-gpu)" in header and NO_DRIVER not in header
        # disks and network take the right-hand column, to the bottom of the body
        disk, net = app.query_one("#disk"), app.query_one("#net")
        assert disk.region.x > 0 and net.region.bottom == app.query_one("#memory").region.bottom


async def test_disk_and_nic_panels_show_iops_await_packets_errors_drops() -> None:
    app, store, _ = make_app(0)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        disk = "\n".join(app.query_one("#disk", MetricPanel).plain_lines())
        net = "\n".join(app.query_one("#net", MetricPanel).plain_lines())
        assert "IOPS" in disk and "await" in disk and "/s w " in disk
        assert "pkts" in net and "err " in net and "drop " in net
        rows = {r.label: r for r in app.query_one("#net", MetricPanel).content.rows}  # type: ignore[union-attr]
        dropping = (store.latest("net.eth0.rx_drops_per_s") or 0) > 0
        assert (rows["  pkts"].severity == "warn") == dropping


async def test_busiest_core_is_labelled_and_per_core_bars_show_when_there_is_room() -> None:
    app, store, _ = make_app(0)
    async with app.run_test(size=(200, 50)) as pilot:
        cpu = app.query_one("#cpu", MetricPanel)
        assert await settle(pilot, lambda: cpu.size.height >= cpu.natural_height(), tries=250)
        app.dashboard.refresh_view()  # lay out again at the settled height
        await pilot.pause()
        lines = cpu.plain_lines()
        busiest = next(line for line in lines if line.startswith("busiest"))
        top = max(store.latest(f"cpu.core.{c}.util") or 0 for c in range(8))
        assert f"{top:.0f} %" in busiest
        bars = [line for line in lines if "%" in line and line.lstrip()[:1].isdigit()]
        assert bars, lines  # btop-style bars with values
        text = " ".join(bars)
        for c in range(8):
            assert f"{c} " in text and f"{store.latest(f'cpu.core.{c}.util'):3.0f}%" in text
        # a short terminal: no room for bars, the CPU rows still all there or "+N more"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        small = cpu.plain_lines()
        assert not any(line.lstrip()[:1].isdigit() and "█" in line for line in small)


async def test_value_column_keeps_its_width_so_sparklines_stay_put() -> None:
    app, store, clock = make_app(0, seconds=30)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        net = app.query_one("#net", MetricPanel)

        def spark_start() -> int:  # the value is right-aligned: its end is where the sparkline starts
            line = next(x for x in net.plain_lines() if x.startswith("eth0 rx"))
            return line.index("B/s") + 3

        starts = set()
        last = store.last_ts or 0.0
        for _ in range(12):  # values of different widths (1.1 GB/s ... 999 kB/s) come and go
            last = fill_store(store, 0, seconds=3, t0=last + 1)
            clock.now = last + 0.5
            app.dashboard.refresh_view()
            await pilot.pause()
            starts.add(spark_start())
        assert len(starts) == 1, starts
