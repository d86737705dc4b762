"""Role colours come from theme variables (perftui.ui.role_colors): the same styles Textual's CSS gives a
component class `color: $variable`, for every theme, on a plain and on a boosted (focused) background."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.color import Color
from textual.widget import Widget

from perftui.ui.role_colors import css_text_color, role_style
from perftui.ui.themes import all_theme_names, load_themes, perftui_variables
from perftui.ui.widgets.diagnosis_pane import DiagnosisPane
from perftui.ui.widgets.metric_panel import ROLE_COLORS
from perftui.ui.widgets.process_pane import ProcessPane

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"
ROLE_TABLES = (ROLE_COLORS, DiagnosisPane.ROLE_COLORS, ProcessPane.ROLE_COLORS)
VARIABLES = sorted({v for table in ROLE_TABLES for v in table.values()})


class Probe(Widget):
    """A widget whose component classes are the variables: Textual's own resolution, to compare with."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"probe--{v}" for v in VARIABLES}
    DEFAULT_CSS = (
        "Probe { background: $background; height: 1; }\n"
        "Probe.-boost { background: $boost; }\n"
        + "".join(f"Probe > .probe--{v} {{ color: ${v}; }}\n" for v in VARIABLES)
    )


class ProbeApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.loaded = load_themes([REPO_THEMES])
        for theme in self.loaded.themes:
            self.register_theme(theme)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        combined = {**perftui_variables(variables), **variables}
        self.theme_variables = combined
        return combined

    def compose(self) -> ComposeResult:
        yield Probe(id="plain")
        yield Probe(id="boosted", classes="-boost")


async def test_role_styles_match_textuals_component_classes_in_every_theme() -> None:
    app = ProbeApp()
    async with app.run_test(size=(40, 4)) as pilot:
        names = all_theme_names(app.loaded)
        assert len(names) > 10 and "textual-light" in names and "perftui-dark" in names
        compared = 0
        for name in names:
            app.theme = name
            await pilot.pause()
            for probe in app.query(Probe):
                for variable in VARIABLES:
                    want = probe.rich_style + probe.get_component_rich_style(f"probe--{variable}")
                    assert role_style(probe, variable) == want, (name, probe.id, variable)
                    compared += 1
        assert compared == len(names) * 2 * len(VARIABLES)


def test_css_text_color_follows_textuals_rules() -> None:
    dark, light = Color.parse("#121212"), Color.parse("#f0f0f0")
    white = Color(255, 255, 255)
    # auto: the background's contrast colour at the given alpha, blended over the background
    assert css_text_color("auto 60%", dark, white) == dark + dark.get_contrast_text(0.6)
    assert css_text_color("auto 60%", light, white) == light + light.get_contrast_text(0.6)
    assert css_text_color("#ff0000", dark, white) == Color(255, 0, 0)
    assert css_text_color("#ff0000 50%", dark, white) == dark + Color(255, 0, 0, 0.5)
    assert css_text_color("auto", dark, Color(0, 0, 0, 0.4)) == dark + dark.get_contrast_text(0.4)
