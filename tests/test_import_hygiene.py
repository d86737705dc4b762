"""Layer contracts: dependencies point one way, and headless paths never load Textual."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.loaded_modules import loaded_modules as _loaded_modules

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
    # a face: reads the store and the diagnosis, never a sampler (a scrape must not block on NVML)
    "exporter": ("perftui.samplers", "perftui.report", "perftui.ui", "perftui.commands", "textual", "pynvml"),
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
STACK_MODULES = ("pyspy", "thread_state", "stack_window", "stack_tree", "stack_slice", "stacks")
STACK_ALLOWED: dict[str, frozenset[str]] = {
    "pyspy": frozenset(),
    "thread_state": frozenset({"pyspy"}),
    "stack_window": frozenset({"pyspy"}),
    "stack_tree": frozenset(),
    "stack_slice": frozenset({"pyspy", "thread_state"}),
    "stacks": frozenset({"pyspy", "thread_state", "stack_window", "stack_tree", "stack_slice"}),
}


@pytest.mark.parametrize("module", STACK_MODULES)
def test_stack_modules_import_one_way(module: str) -> None:
    imported = {
        name.removeprefix("perftui.samplers.")
        for name in _imports(PKG / "samplers" / f"{module}.py")
        if name.removeprefix("perftui.samplers.") in STACK_MODULES
    }
    assert imported <= STACK_ALLOWED[module], f"{module}.py imports {sorted(imported)}"


# The diagnosis modules, lowest first: each may import only modules before it. The window holds plain
# data (it never sees the rules table: the engine passes the table's signals in), the checks read
# windows through signals, the table (rules) names the checks, the engine runs the table.
DIAG_ORDER = (
    "model",
    "advice",
    "window",
    "signals",
    "culprits",
    "ruledef",
    "checks_stack",
    "checks_host",
    "checks_gpu",
    "checks_gpu_host",
    "checks_cgroup",
    "checks_serving",
    "rules",
    "fit",
    "engine",
    "tracker",
    "render",
    "timeline_log",
)


def _pkg_imports(path: Path, package: str) -> set[str]:
    """Every module or name under `package` that an import in `path` names, lazy (function-level) and
    TYPE_CHECKING imports included, relative imports resolved; `from pkg import mod` names pkg.mod."""
    name = _module_name(path, PKG)
    return {t for t, _ in _import_targets(path, name) if t == package or t.startswith(package + ".")}


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def _import_targets(path: Path, name: str) -> set[tuple[str, bool]]:
    """(absolute target, under `if TYPE_CHECKING:`) for every import statement anywhere in the module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parent = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[tuple[str, bool]] = set()

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for c in child.body:
                    visit_one(c, True)
                for c in child.orelse:
                    visit_one(c, typing_only)
            else:
                visit_one(child, typing_only)

    def visit_one(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.Import):
            out.update((a.name, typing_only) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = parent.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            out.add((mod, typing_only))
            out.update((f"{mod}.{a.name}", typing_only) for a in node.names)
        visit(node, typing_only)

    visit(tree, False)
    return out


def import_cycles(root: Path, *, typing: bool = False) -> list[list[str]]:
    """Strongly connected components (more than one module) of the import graph of package `root`,
    each sorted, the list sorted. Every import statement counts wherever it sits (module level or in a
    function); `typing=True` adds the imports under `if TYPE_CHECKING:`. A package's __init__ importing
    its own submodules is how packages are built, not a cycle."""
    files = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges: set[str] = set()
        for target, typing_only in _import_targets(path, name):
            if typing_only and not typing:
                continue
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != name and not target.startswith(name + "."):
                edges.add(target)
        graph[name] = edges
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan; package graphs are shallow enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(found)


@pytest.mark.parametrize("module", DIAG_ORDER)
def test_diagnosis_modules_import_one_way(module: str) -> None:
    imported = {
        name.removeprefix("perftui.diagnosis.")
        for name in _pkg_imports(PKG / "diagnosis" / f"{module}.py", "perftui")
        if name.removeprefix("perftui.diagnosis.") in DIAG_ORDER
    }
    allowed = set(DIAG_ORDER[: DIAG_ORDER.index(module)])
    assert imported <= allowed, f"diagnosis/{module}.py imports {sorted(imported - allowed)} (above it)"


def test_every_diagnosis_module_has_a_place_in_the_order() -> None:
    found = {p.stem for p in (PKG / "diagnosis").glob("*.py")} - {"__init__"}
    assert found == set(DIAG_ORDER)


def test_package_has_no_import_cycle() -> None:
    """Module-level and lazy (function-level) imports: one graph, no cycle."""
    assert import_cycles(PKG) == []


# The one typing-only cycle left on main: ui/app.py <-> ui/app_io.py, removed with app_io.py itself
# (issue 16's controller). Allowed only while app_io.py exists.
_PENDING_TYPING_CYCLES = (
    [["perftui.ui.app", "perftui.ui.app_io"]] if (PKG / "ui" / "app_io.py").exists() else []
)


def test_package_has_no_import_cycle_with_typing_imports() -> None:
    """Imports under `if TYPE_CHECKING:` added: still no cycle (a cycle a type checker sees is a
    design circle too, even if it costs nothing at run time)."""
    assert [c for c in import_cycles(PKG, typing=True) if c not in _PENDING_TYPING_CYCLES] == []


def test_cycle_checker_finds_a_planted_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "planted"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from planted import a\n")  # a package importing its own: fine
    (pkg / "a.py").write_text("from planted.sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n    return g\n")  # lazy, relative
    (pkg / "c.py").write_text("import os\n\n\ndef g():\n    import planted.a\n")
    (pkg / "d.py").write_text("from planted import c\n")
    assert import_cycles(pkg) == [["planted.a", "planted.c", "planted.sub.b"]]
    (pkg / "c.py").write_text("import os\n")
    assert import_cycles(pkg) == []
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from planted import d\n"
    )
    assert import_cycles(pkg) == []
    assert import_cycles(pkg, typing=True) == [["planted.c", "planted.d"]]


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
