"""`perftui web`: the live dashboard (or a replay) in a browser, through textual-serve.

textual-serve runs the command below as one subprocess per browser tab, so each tab is its own
`perftui` process whose samplers stop when the tab closes. Binds loopback unless told otherwise.
Each tab refuses what acts on the box (`r` record, `s` report, `k` kill, `a` attach; a theme picked
with `t` applies but is not saved) unless the server was started with `--allow-actions` (the tab's
app reads `WEB_ACTIONS_ENV`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shlex
import socket
import sys

from perftui.commands.web_checks import child_argv, public_url, public_url_error, tab_problem
from perftui.core.sanitize import clean
from perftui.exporter.server import ListenError, is_loopback, parse_listen

DEFAULT_WEB_LISTEN = "127.0.0.1:8000"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--listen",
        default=DEFAULT_WEB_LISTEN,
        metavar="HOST:PORT",
        help=f"address to serve the dashboard on (default {DEFAULT_WEB_LISTEN}; loopback unless you say so)",
    )
    p.add_argument("--replay", metavar="FILE", help="serve a recording instead of the live dashboard")
    p.add_argument(
        "--allow-actions",
        action="store_true",
        help="let browser users act on this box (r: record, s: report, k: kill, a: attach, saving the theme);"
        " off by default",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use to reach this server (a proxy, a DNS name); default: "
        "http://HOST:PORT of --listen, this machine's address when listening on all interfaces",
    )
    p.add_argument(
        "dashboard_args",
        nargs=argparse.REMAINDER,
        metavar="-- DASHBOARD_OPTIONS",
        help="options passed to each tab's dashboard, after --",
    )


def _error(message: str) -> int:
    print(f"perftui: error: {clean(message)}", file=sys.stderr)
    return 2


def child_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve starts for each browser tab."""
    return shlex.join([sys.executable, "-m", "perftui", *child_argv(args)])


def check_port(host: str, port: int) -> str | None:
    """Bind once ourselves so a taken or privileged port is one clear line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except PermissionError:
        return f"port {port} needs privileges on this machine; pick one above 1023"
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def run(args: argparse.Namespace) -> int:
    try:
        host, port = parse_listen(args.listen)
    except ListenError as exc:
        return _error(str(exc))
    if port == 0:
        return _error("--listen needs a port browsers can be told (1024-65535), not 0")
    bad_url = None if args.public_url is None else public_url_error(args.public_url)
    if bad_url is not None:
        return _error(bad_url)
    if importlib.util.find_spec("textual_serve") is None:
        return _error("browser mode needs textual-serve: pip install 'perftui[web]'")
    code = tab_problem(args)
    if code is not None:
        return code
    problem = check_port(host, port)
    if problem is not None:
        return _error(problem)
    url = public_url(host, port, args.public_url)
    if is_loopback(host):
        print(f"perftui web: {url}/  (from elsewhere: ssh -L {port}:127.0.0.1:{port} HOST)")
    else:
        print(
            f"perftui web: WARNING: listening on {host}:{port}; anyone who reaches this port gets the "
            "dashboard (process command lines are redacted)",
            file=sys.stderr,
        )
        print(f"perftui web: {url}/  (browsers are sent there; --public-url URL to change it)")
    from textual_serve.server import Server

    from perftui.ui.options import WEB_ACTIONS_ENV

    # Each tab's perftui inherits this environment: it refuses the keys that write files on the box.
    os.environ[WEB_ACTIONS_ENV] = "1" if args.allow_actions else "0"

    class _Server(Server):
        def request_exit(self) -> None:
            # Ctrl-C / SIGTERM: end the tabs first; aiohttp otherwise waits on their open websockets
            end_sessions()
            super().request_exit()

    try:
        _Server(child_command(args), host=host, port=port, title="perftui", public_url=url).serve()
    finally:
        end_sessions()
    return 0


def end_sessions(grace_s: float = 5.0) -> None:
    """Stop the tabs' perftui processes when the server stops: textual-serve leaves them running (each
    would go on sampling the box, unseen, until killed). SIGTERM, then SIGKILL after `grace_s`."""
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
