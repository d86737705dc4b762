"""Static checks over perftui/ (AST): no shell, no sudo, nothing listening, argument lists only.

Each check is also run on a small bad sample, so a scanner that finds nothing cannot pass by accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "perftui"
SOURCES = sorted(PKG.rglob("*.py"))

SHELL_CALLS = {
    ("os", "system"),
    ("os", "popen"),
    ("os", "execl"),
    ("os", "execlp"),
    ("os", "execle"),
    ("os", "execlpe"),
    ("os", "spawnl"),
    ("os", "spawnlp"),
    ("os", "spawnv"),
    ("os", "spawnvp"),
    ("os", "posix_spawn"),
    ("os", "posix_spawnp"),
    ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
    ("asyncio", "create_subprocess_shell"),
    ("pty", "spawn"),
}
PROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec"}
SERVER_MODULES = {
    "socketserver",
    "http.server",
    "xmlrpc.server",
    "wsgiref.simple_server",
    "aiohttp.web",  # aiohttp's server half; the probe uses only its client
    "uvicorn",
}
SERVER_CALLS = {"bind", "listen", "start_server", "create_server", "serve_forever", "start_unix_server"}


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def problems(source: str, name: str = "<sample>") -> list[str]:
    tree = ast.parse(source, name)
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            else:
                mods = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            for m in mods:
                if m in SERVER_MODULES or m.startswith("aiohttp.web") or m.split(".")[0] == "uvicorn":
                    found.append(f"{where}: imports server module {m}")
                if m in ("commands", "pty"):
                    found.append(f"{where}: imports {m}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            first = node.value.strip().split(" ", 1)[0]
            if first in ("sudo", "doas", "pkexec", "su"):
                found.append(f"{where}: runs {first}? ({node.value[:40]!r})")
        if not isinstance(node, ast.Call):
            continue
        name_ = dotted(node.func)
        parts = tuple(name_.rsplit(".", 1)) if "." in name_ else ("", name_)
        if parts in SHELL_CALLS:
            found.append(f"{where}: {name_}")
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append(f"{where}: {name_}(shell=...)")
        if parts[1] in SERVER_CALLS and parts[0]:
            found.append(f"{where}: {name_}() (a listening socket?)")
        if parts[1] in PROCESS_CALLS and parts[0].split(".")[-1] in ("subprocess", "asyncio") and node.args:
            argv = node.args[0]
            if isinstance(argv, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                found.append(f"{where}: {name_} with a command string, not an argument list")
            if isinstance(argv, (ast.List, ast.Tuple)) and argv.elts:
                head = argv.elts[0]
                if isinstance(head, ast.Constant) and head.value in ("sudo", "sh", "bash", "/bin/sh"):
                    found.append(f"{where}: {name_} starts {head.value}")
    return found


@pytest.mark.parametrize(
    "bad",
    [
        "import subprocess\nsubprocess.run('ls -l', shell=True)",
        "import subprocess\nsubprocess.Popen(['ls'], shell=flag)",
        "import os\nos.system('ls')",
        "import os\nos.popen('ls')",
        "import subprocess\nsubprocess.check_output(f'py-spy dump --pid {pid}')",
        "import subprocess\nsubprocess.run(['sudo', 'py-spy', 'dump'])",
        "args = ['sudo', binary]",
        "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 80))",
        "import socket\ns.listen(5)",
        "import http.server",
        "from socketserver import TCPServer",
        "import asyncio\nasyncio.start_server(cb, '0.0.0.0', 8000)",
        "import subprocess\nsubprocess.getoutput('id')",
    ],
)
def test_the_scanner_finds_each_bad_pattern(bad: str) -> None:
    assert problems(bad), bad


def test_the_scanner_accepts_what_perftui_does() -> None:
    ok = (
        "import subprocess, socket\n"
        "subprocess.run([binary, 'dump', '--pid', str(pid)], capture_output=True, shell=False)\n"
        "socket.gethostname()\n"
        "msg = 'perftui never runs sudo'\n"
    )
    assert problems(ok) == []


# The modules allowed to listen, loopback unless told otherwise: `perftui exporter`'s HTTP server and
# `perftui web` (textual-serve; it binds once itself to report a taken or privileged port clearly).
LISTENER = PKG / "exporter" / "server.py"
WEB_LISTENER = PKG / "commands" / "web.py"


def test_perftui_has_no_shell_no_sudo_and_no_listening_socket() -> None:
    assert len(SOURCES) > 50
    found = [p for path in SOURCES for p in problems(path.read_text(), str(path.relative_to(PKG.parent)))]
    allowed = tuple(str(m.relative_to(PKG.parent)) + ":" for m in (LISTENER, WEB_LISTENER))
    listening = ("imports server module", "a listening socket?")
    assert [p for p in found if not (p.startswith(allowed) and any(w in p for w in listening))] == []


def test_the_only_listener_binds_loopback_by_default() -> None:
    from perftui.exporter.server import DEFAULT_LISTEN

    assert DEFAULT_LISTEN.startswith("127.0.0.1:")


def test_every_subprocess_in_perftui_is_py_spy_or_ssh_with_an_argument_list() -> None:
    """perftui starts py-spy (from an argument list whose first item is its path) and, for `fleet`,
    the user's ssh (an argument list built by perftui/fleet/hosts.py); nothing else."""
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and dotted(node.func).startswith(
                ("subprocess.", "asyncio.create_sub")
            ):
                calls.append((path.name, node))
    # one `py-spy dump` (subprocess.run), one `py-spy record` slice (subprocess.Popen), fleet's ssh
    assert sorted((name, dotted(node.func)) for name, node in calls) == [
        ("pyspy.py", "subprocess.run"),
        ("reader.py", "asyncio.create_subprocess_exec"),
        ("stack_slice.py", "subprocess.Popen"),
    ]
    assert all(not any(k.arg == "shell" for k in node.keywords) for _, node in calls)
    dump = (PKG / "samplers" / "pyspy.py").read_text()
    assert 'args = [binary, "dump", "--pid", str(pid), "--json"]' in dump
    text = (PKG / "samplers" / "stack_slice.py").read_text()
    assert 'args = [binary, "record", "--pid", str(pid), "--format", "raw"' in text
    assert "record_args(self.binary, pid," in text  # the Popen's argument list is that one


def test_pid_and_path_validation_exist_where_the_cli_takes_them() -> None:
    """`--pid` goes through validate_pid before anything starts (tests/test_pid_option.py runs it);
    recordings are opened read-only through the checked reader (tests/store, tests/report)."""
    from perftui.samplers.pids import validate_pid

    assert validate_pid(0) and validate_pid(-5) and validate_pid(2**31) and validate_pid(True)
    reader = (PKG / "store" / "reader.py").read_text()
    assert "mode=ro" in reader and "_check_file(p)" in reader


def test_aiohttp_client_is_fine_but_its_server_is_flagged() -> None:
    assert problems("import aiohttp\n") == []
    assert problems("from aiohttp import ClientSession\n") == []
    assert problems("from aiohttp import web\n")
    assert problems("import aiohttp.web\n")
