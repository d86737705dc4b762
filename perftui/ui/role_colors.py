"""Role colours for the widgets that draw their own lines: metric panels, the diagnosis and process panes.

Each piece of such a line has a role (label, value, warn, …) and each role is one theme variable.
They used to be Textual component classes (`MetricPanel > .panel--value { color: $foreground; }`),
which Textual resolves by building and styling a virtual node per role and widget on every restyle:
11 roles on each metric panel, twice at start — a third of the dashboard's first frame on the 2-core
VM, and more with a panel per GPU. Here a role's colour is computed from its variable the way
Textual computes `color: <value>` for a child that has no background of its own
(tests/ui/test_role_colors.py checks the two agree for every theme). A role that needs more than a
colour (the process list's selection: a background and bold) stays a component class.
"""

from __future__ import annotations

from rich.style import Style
from textual.color import Color
from textual.widget import Widget

_WHITE = Color(255, 255, 255)


def css_text_color(value: str, background: Color, inherited: Color) -> Color:
    """The colour text is drawn in for `color: <value>` on `background` (a theme variable's value:
    a colour, `auto` for the background's contrast colour, and an alpha percentage)."""
    color: Color | None = None
    alpha: float | None = None
    auto = False
    for token in value.split():
        if token == "auto":
            auto = True
        elif token.endswith("%"):
            alpha = float(token[:-1]) / 100.0
        else:
            color = Color.parse(token)
    if alpha is not None:
        color = (color or _WHITE).multiply_alpha(alpha)
    if color is None:
        color = inherited
    if auto:
        color = background.get_contrast_text(color.a)
    return background + color


def role_style(widget: Widget, variable: str) -> Style:
    """`widget`'s own style with the text colour of a child styled `color: $variable` (an unknown
    variable leaves the widget's own colours)."""
    base = widget.rich_style
    value = widget.app.theme_variables.get(variable)
    if value is None:
        return base
    background = widget.background_colors[1]
    color = css_text_color(value, background, widget.styles.color)
    return base + Style.from_color(
        color.rich_color if (background.a or color.a) else None,
        background.rich_color if background.a else None,
    )
