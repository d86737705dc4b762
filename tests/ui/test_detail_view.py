"""The detail view's plots and statistics (issue 24 item 5): one unit per axis, human units,
an x axis ending at `now`, a theme colour per series, statistics the sample count supports."""

from __future__ import annotations

from perftui.core.units import Unit
from perftui.store.metric_store import MetricStore
from perftui.ui.detail_plot import group_by_unit, plot_panels, x_ticks, y_ticks
from perftui.ui.detail_stats import min_samples, stats_table
from perftui.ui.panels import PanelContent, ViewCtx, metric_row, net_content
from perftui.ui.screens.detail import DetailScreen
from tests.ui.conftest import make_app
from tests.ui.fakes import fill_store


def _net(store: MetricStore) -> PanelContent:
    return net_content(store, ViewCtx(now=(store.last_ts or 0.0) + 0.5, window=60, interval=1.0))


def test_each_unit_gets_its_own_axis() -> None:
    store = MetricStore()
    fill_store(store, 0, seconds=30)
    groups = group_by_unit(_net(store))
    assert [g.unit for g in groups] == [Unit.BYTES_PER_S, Unit.PER_S]  # TCP retr/s is not on B/s
    content = PanelContent(
        "Memory", [metric_row(store, "mem.used_pct"), metric_row(store, "mem.cached_bytes")]
    )
    assert [g.unit for g in group_by_unit(content)] == [Unit.PERCENT, Unit.BYTES]


def test_ticks_read_in_human_units_and_the_time_axis_ends_at_now() -> None:
    ticks, labels = y_ticks(Unit.BYTES_PER_S, 0.0, 2.1e8, 12)
    assert labels[0] == "0 B/s" and all("e+" not in lab and "e-" not in lab for lab in labels)
    assert "200 MB/s" in labels and ticks[-1] >= 2.1e8
    assert y_ticks(Unit.PERCENT, 0.0, 100.0, 9)[1] == ["0 %", "50 %", "100 %"]
    xt, xl = x_ticks(60.0, 80)
    assert xl[-1] == "now" and xt[-1] == 0 and xl[0] == "-60 s"
    assert not any("-0" in lab for lab in xl) and not any("." in lab for lab in xl)


def test_series_have_distinct_colours_and_the_legend_sits_above_the_plot() -> None:
    store = MetricStore()
    fill_store(store, 0, seconds=60)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    text = plot_panels(store, _net(store), 60.0, (100, 30), colours)
    lines = text.plain.split("\n")
    legend = next(i for i, line in enumerate(lines) if "eth0 rx" in line and "eth0 tx" in line)
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    assert legend < top  # the legend is a line of its own, not drawn over the data
    used = {
        span.style.color.triplet
        for span in text.spans
        if not isinstance(span.style, str) and span.style.color
    }
    rgb = {(c.red, c.green, c.blue) for c in used if c is not None}
    assert {(255, 0, 0), (0, 255, 0)} <= rgb  # rx and tx, each in its own colour
    assert "TCP retr" in text.plain and text.plain.count("┌") == 2  # a second panel for /s


def test_stats_fit_80_columns_and_quote_only_supported_percentiles() -> None:
    store = MetricStore()
    fill_store(store, 1, seconds=16)
    app_content = _net(store)
    table = stats_table(store, app_content, 60.0, 76)
    assert all(len(line) <= 76 for line in table.splitlines()), table
    head = table.splitlines()[0]
    assert "P99.9" not in head and "P99" not in head and "P95" not in head  # 16 samples
    assert "(16 samples)" in table and f"P99 {min_samples(0.99)}" in table
    fill_store(store, 1, seconds=300, t0=store.last_ts or 0.0)
    head = stats_table(store, app_content, 300.0, 76).splitlines()[0]
    assert "P95" in head and "P99" in head and "P99.9" not in head


async def test_the_detail_view_fits_80x24_with_one_plot_per_unit() -> None:
    app, _, _ = make_app(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.set_focus(app.query_one("#net"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        screen = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "(B/s)" in screen and "(/s)" in screen and "now" in screen
        assert "e+0" not in screen and "-0.0" not in screen
        stats = str(app.screen.query_one("#detail-stats").render())
        assert "TCP retr" in stats and "P99" not in stats.splitlines()[0]  # 60 samples
