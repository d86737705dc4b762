"""perftui's theme files (themes/*.toml) loaded as Textual themes, validated at start.

A theme file holds Textual's theme fields plus a [variables] table for perftui's own variables
(`spark`: the sparkline colour, `panel-border`: unfocused panel borders). Built-in Textual themes
get `spark` = their primary colour and `panel-border` = their secondary colour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

from perftui.config import parse_toml, read_regular_file
from perftui.core.sanitize import clean

DEFAULT_THEME = "perftui-dark"
COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
PERFTUI_VARIABLES = ("spark", "panel-border")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


class LoadedThemes(NamedTuple):
    """The theme files that loaded, and one line for each that did not."""

    themes: list[Theme]
    errors: list[str]


def theme_dirs() -> list[Path]:
    """The repository's/package's themes/ folder, then the user's ($XDG_CONFIG_HOME/perftui/themes)."""
    here = Path(__file__).resolve().parent
    dirs = [here.parent.parent / "themes", here.parent / "themes"]
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    dirs.append(Path(xdg) / "perftui" / "themes")
    unique: dict[Path, Path] = {}
    for d in dirs:
        if d.is_dir():
            unique.setdefault(d.resolve(), d)  # the repo's themes/ links to perftui/themes
    return list(unique.values())


def _color(path: Path, field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path.name}: {field} must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ThemeError(f"{path.name}: {field} = {value!r} is not a colour") from exc
    return value


def parse_theme(path: Path, data: dict[str, Any]) -> Theme:
    allowed = {"name", "dark", "luminosity_spread", "text_alpha", "variables", *COLOR_FIELDS}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ThemeError(f"{path.name}: unknown field(s) {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(f"{path.name}: name must be lower-case letters, digits and dashes")
    if "primary" not in data:
        raise ThemeError(f"{path.name}: primary colour missing")
    colors = {f: _color(path, f, data[f]) for f in COLOR_FIELDS if f in data}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"{path.name}: dark must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{path.name}: [variables] must be a table")
    vars_ok = {str(k): _color(path, f"variables.{k}", v) for k, v in variables.items()}
    extra: dict[str, Any] = {}
    for f in ("luminosity_spread", "text_alpha"):
        if f in data:
            if not isinstance(data[f], (int, float)) or not 0 <= data[f] <= 1:
                raise ThemeError(f"{path.name}: {f} must be a number between 0 and 1")
            extra[f] = float(data[f])
    kwargs: dict[str, Any] = {**colors, **extra}
    return Theme(name=name, dark=dark, variables=vars_ok, **kwargs)


def load_theme_file(path: Path) -> Theme:
    name = clean(path.name)
    try:  # a regular file of bounded size: a FIFO or /dev/zero named *.toml neither hangs nor fills memory
        data = parse_toml(read_regular_file(path))
    except OSError as exc:
        raise ThemeError(f"{name}: cannot read ({clean(exc.strerror or str(exc))})") from None
    except ValueError as exc:
        raise ThemeError(f"{name}: not valid TOML ({clean(str(exc), 300)})") from None
    try:
        return parse_theme(path, data)
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:  # a value of the wrong shape
        raise ThemeError(f"{name}: {clean(str(exc), 300) or type(exc).__name__}") from None


def load_themes(dirs: Iterable[Path] | None = None) -> LoadedThemes:
    """Every valid theme file; a bad file is reported, not fatal. Later folders override earlier ones."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for d in theme_dirs() if dirs is None else dirs:
        for path in sorted(Path(d).glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return LoadedThemes(list(themes.values()), errors)


def all_theme_names(loaded: LoadedThemes) -> list[str]:
    """perftui's themes first, then Textual's built-in ones."""
    own = [t.name for t in loaded.themes]
    return own + [n for n in BUILTIN_THEMES if n not in own]


def perftui_variables(theme_vars: dict[str, str]) -> dict[str, str]:
    """Defaults for perftui's own variables, derived from a theme's generated colours."""
    return {
        "spark": theme_vars.get("primary", "#4c9be8"),
        "panel-border": theme_vars.get("secondary", theme_vars.get("primary", "#7f8ea3")),
    }
