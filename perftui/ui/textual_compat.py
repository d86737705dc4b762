"""The one seam between perftui and Textual's private API.

perftui uses a few of Textual's internals for speed: a compositor that redraws span by span
(`textual._compositor`), a terminal driver whose input thread sleeps (`textual._xterm_parser`), a
theme that is styled once at start (`App._watch_theme`, `App._refresh_truecolor_filter`,
`App._validate_theme`). Every such name is used from here only. `PRIVATE_NAMES` lists each with the
shape expected, and each feature's user checks `available(feature)` before it loads the module that
needs it (perftui.ui.span_compositor, perftui.ui.driver): when a Textual release renames one, that
feature falls back to stock Textual (slower, same picture) instead of failing;
tests/ui/test_textual_compat.py fails for the renamed name so that the seam gets updated. This
module imports nothing of perftui.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from textual.app import App
from textual.screen import Screen


class PrivateName(NamedTuple):
    """`owner.attribute` (`owner` is "module:Class" or "module"), and what it must be."""

    feature: str  # which perftui feature falls back when this is missing
    owner: str
    attribute: str
    kind: str  # "class", "callable", "property", "reactive", "instance" (assigned in the class's code)
    params: tuple[str, ...] = ()  # leading positional parameters after self, for callables


PRIVATE_NAMES: tuple[PrivateName, ...] = (
    PrivateName("span_compositor", "textual._compositor", "Compositor", "class"),
    PrivateName("span_compositor", "textual._compositor", "CompositorUpdate", "class"),
    PrivateName("span_compositor", "textual._compositor:Compositor", "render_partial_update", "callable"),
    PrivateName(
        "span_compositor", "textual._compositor:Compositor", "render_full_update", "callable", ("simplify",)
    ),
    PrivateName("span_compositor", "textual._compositor:Compositor", "_regions_to_spans", "callable"),
    PrivateName("span_compositor", "textual._compositor:Compositor", "visible_widgets", "property"),
    PrivateName("span_compositor", "textual._compositor:Compositor", "_dirty_regions", "instance"),
    PrivateName("span_compositor", "textual.screen:Screen", "_compositor", "instance"),
    PrivateName("quiet_driver", "textual._xterm_parser", "XTermParser", "class"),
    PrivateName("quiet_driver", "textual._xterm_parser:XTermParser", "feed", "callable", ("data",)),
    PrivateName("quiet_driver", "textual._xterm_parser:XTermParser", "tick", "callable"),
    PrivateName("quiet_driver", "textual._xterm_parser:XTermParser", "_timeout_time", "instance"),
    PrivateName("quiet_driver", "textual.drivers.linux_driver:LinuxDriver", "run_input_thread", "callable"),
    PrivateName("quiet_driver", "textual.drivers.linux_driver:LinuxDriver", "_debug", "instance"),
    PrivateName("theme_start", "textual.app:App", "_watch_theme", "callable", ("theme_name",)),
    PrivateName("theme_start", "textual.app:App", "_validate_theme", "callable", ("theme_name",)),
    PrivateName("theme_start", "textual.app:App", "_refresh_truecolor_filter", "callable", ("theme",)),
)


def _owner(spec: str) -> Any:
    module_name, _, cls_name = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name) if cls_name else module


def _sets_attribute(owner: Any, attribute: str) -> bool:
    """Whether the `__init__` of the class or of a base names `attribute` (an attribute made there).

    Read from the compiled code (co_names), not the source: this runs at start-up."""
    for cls in inspect.getmro(owner):
        init = cls.__dict__.get("__init__")
        code = getattr(init, "__code__", None)
        if code is not None and attribute in code.co_names:
            return True
    return False


def problem(name: PrivateName) -> str | None:
    """Why `name` does not have the expected shape in the installed Textual (None: it does)."""
    from textual.reactive import Reactive

    label = f"{name.owner}.{name.attribute}"
    try:
        owner = _owner(name.owner)
    except (ImportError, AttributeError) as exc:
        return f"{name.owner}: {exc}"
    if name.kind == "instance":
        return None if _sets_attribute(owner, name.attribute) else f"{label}: missing"
    value = inspect.getattr_static(owner, name.attribute, None)
    if value is None:
        return f"{label}: missing"
    if name.kind == "class" and not inspect.isclass(value):
        return f"{label}: not a class"
    if name.kind == "reactive" and not isinstance(value, Reactive):
        return f"{label}: not a reactive"
    if name.kind == "property" and not isinstance(value, property):
        return f"{label}: not a property"
    if name.kind == "callable":
        func = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if not callable(func):
            return f"{label}: not callable"
        if name.params:
            params = [p for p in inspect.signature(func).parameters if p != "self"]
            if tuple(params[: len(name.params)]) != name.params:
                return f"{label}: parameters {params}, expected {list(name.params)} first"
    return None


@cache
def available(feature: str) -> bool:
    """Whether every private name `feature` uses is there, with its shape (checked once)."""
    return all(problem(n) is None for n in PRIVATE_NAMES if n.feature == feature)


def reset() -> None:
    """Check the names again (tests that simulate a missing name)."""
    available.cache_clear()


# -- span compositor -----------------------------------------------------------
def compositor_base() -> tuple[type[Any], type[Any]]:
    """(Compositor, CompositorUpdate) for perftui.ui.span_compositor to subclass."""
    from textual._compositor import Compositor, CompositorUpdate

    return Compositor, CompositorUpdate


def dirty_regions(compositor: Any) -> Any:
    return compositor._dirty_regions


def regions_to_spans(compositor: Any, regions: Any) -> Any:
    return compositor._regions_to_spans(regions)


def set_compositor(screen: Screen[Any], compositor: Any) -> None:
    """Give `screen` another compositor (check `available("span_compositor")` first)."""
    screen._compositor = compositor


def screen_compositor(screen: Screen[Any]) -> Any:
    """The screen's compositor (tests and the benchmark count its span and fallback frames)."""
    return getattr(screen, "_compositor", None)


# -- driver ----------------------------------------------------------------------
def xterm_parser(debug: bool) -> Any:
    from textual._xterm_parser import XTermParser

    return XTermParser(debug)


def parser_waiting(parser: Any) -> bool:
    """Whether the parser holds a partial escape sequence (poll then); unknown parsers: always."""
    return getattr(parser, "_timeout_time", 0.0) is not None


def driver_debug(driver: Any) -> bool:
    return bool(getattr(driver, "_debug", False))


# -- theme -----------------------------------------------------------------------
def start_theme(app: App[Any], theme: str, apply_classes: Callable[[], None]) -> bool:
    """Set the app's starting theme without Textual's restyle at mount (see PerftuiApp).

    False when the private names are missing: the caller then sets `app.theme` (Textual's path).
    """
    if not available("theme_start"):
        return False
    app.set_reactive(App.theme, app._validate_theme(theme))
    apply_classes()
    app._refresh_truecolor_filter(app.ansi_theme)
    app.stylesheet.set_variables(app.get_css_variables())
    return True


def stock_watch_theme(app: App[Any], theme_name: str) -> None:
    """Textual's own theme watcher (re-parse the stylesheets, restyle everything)."""
    App._watch_theme(app, theme_name)
