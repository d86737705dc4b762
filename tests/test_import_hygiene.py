"""Layer contracts: dependencies point one way, and headless paths never load Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "perftui"

# layer -> packages it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": (
        "perftui.samplers",
        "perftui.store",
        "perftui.diagnosis",
        "perftui.report",
        "perftui.ui",
        "perftui.commands",
        "textual",
        "psutil",
        "pynvml",
    ),
    "store": (
        "perftui.samplers",
        "perftui.diagnosis",
        "perftui.report",
        "perftui.ui",
        "perftui.commands",
        "textual",
    ),
    "samplers": ("perftui.diagnosis", "perftui.report", "perftui.ui", "perftui.commands", "textual"),
    "diagnosis": (
        "perftui.samplers",
        "perftui.report",
        "perftui.ui",
        "perftui.commands",
        "textual",
        "psutil",
        "pynvml",
    ),
    "report": ("perftui.ui", "perftui.commands", "textual"),
    "fleet": ("perftui.ui", "perftui.commands", "perftui.samplers", "textual"),
    "efficiency": (
        "perftui.samplers",
        "perftui.diagnosis",
        "perftui.report",
        "perftui.ui",
        "perftui.commands",
        "textual",
        "psutil",
        "pynvml",
    ),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _layer_files() -> list[tuple[str, Path]]:
    return [(layer, p) for layer in FORBIDDEN for p in sorted((PKG / layer).rglob("*.py"))]


@pytest.mark.parametrize(("layer", "path"), _layer_files(), ids=lambda v: str(v).rsplit("perftui/", 1)[-1])
def test_layer_imports_point_down(layer: str, path: Path) -> None:
    bad = sorted(
        name
        for name in _imports(path)
        for banned in FORBIDDEN[layer]
        if name == banned or name.startswith(banned + ".")
    )
    assert not bad, f"{path.name} ({layer}) imports {bad}"


# The stacks sampler's modules, lowest first: each may import only those before it (no cycles,
# and nothing below imports the sampler).
STACK_MODULES = ("pyspy", "thread_state", "stack_window", "stacks")
STACK_ALLOWED: dict[str, frozenset[str]] = {
    "pyspy": frozenset(),
    "thread_state": frozenset({"pyspy"}),
    "stack_window": frozenset({"pyspy"}),
    "stacks": frozenset({"pyspy", "thread_state", "stack_window"}),
}


@pytest.mark.parametrize("module", STACK_MODULES)
def test_stack_modules_import_one_way(module: str) -> None:
    imported = {
        name.removeprefix("perftui.samplers.")
        for name in _imports(PKG / "samplers" / f"{module}.py")
        if name.removeprefix("perftui.samplers.") in STACK_MODULES
    }
    assert imported <= STACK_ALLOWED[module], f"{module}.py imports {sorted(imported)}"


def _loaded_modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(out.stdout.split())


def test_importing_cli_does_not_load_textual() -> None:
    mods = _loaded_modules("import perftui.cli; perftui.cli.build_parser()")
    assert "textual" not in mods
    assert "plotext" not in mods


def test_snapshot_does_not_load_textual() -> None:
    code = (
        "from perftui.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['snapshot', '--json', '--duration', '0.1', '--no-gpu'])\n"
        "assert rc == 0, rc\n"
    )
    mods = _loaded_modules(code)
    assert "textual" not in mods


def test_no_headless_command_module_loads_textual() -> None:
    from perftui.cli import COMMANDS

    headless = [mod for mod in (m for m, _ in COMMANDS.values())]
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in headless)
    assert "textual" not in _loaded_modules(code)
