"""What `perftui web` checks before it serves: each tab's command line, and the URL the page is given.

textual-serve starts a tab's perftui only when a browser connects, so a bad `--replay FILE` or a
bad dashboard option after `--` would show up as a dead terminal in the browser and nothing on the
server's console. Here the tab's command line is parsed by perftui's own parser and checked like the
dashboard and `replay` check theirs, before anything listens: one line, exit 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

from perftui.commands.common import error


def child_argv(args: argparse.Namespace) -> list[str]:
    """The perftui arguments of each browser tab (after `python -m perftui`)."""
    extra = [a for a in (args.dashboard_args or []) if a != "--"]
    if args.replay:
        # absolute: the tab's perftui need not share the server's working directory
        return ["replay", str(Path(args.replay).absolute()), *extra]
    return extra


def tab_problem(args: argparse.Namespace) -> int | None:
    """None when a tab's perftui would start; else the exit status, after one line on stderr."""
    from perftui.cli import build_parser

    argv = child_argv(args)
    try:
        tab = build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # the parser printed its one line (or the help, asked for)
        return exc.code if isinstance(exc.code, int) else 2
    wanted = "replay" if args.replay else None
    if tab.command != wanted:
        return error(f"after -- give dashboard options, not the command {tab.command!r}")
    if getattr(tab, "record", None) is not None:
        return error("--record is not for perftui web: every tab would write the same file")
    return _replay_problem(tab) if args.replay else _dashboard_problem(tab)


def _replay_problem(tab: argparse.Namespace) -> int | None:
    from perftui.commands.replay import opened_recording

    got = opened_recording(tab)  # the checks `perftui replay` makes, before anything is served
    if isinstance(got, str):
        return error(got if got.startswith("--") else f"--replay: {got}")
    return _theme_problem(tab.theme)


def _dashboard_problem(tab: argparse.Namespace) -> int | None:
    from perftui.commands.common import pid_checked
    from perftui.commands.dashboard_probe import probe_plan
    from perftui.commands.serving_args import serving_checked
    from perftui.config import ConfigError, load_config
    from perftui.core.limits import interval_error, window_error
    from perftui.probe.options import OptionError

    try:
        cfg = load_config().merged(interval=tab.interval, window=tab.window, theme=tab.theme)
    except ConfigError as exc:
        return error(str(exc))
    bad = interval_error(float(cfg.interval)) or window_error(float(cfg.window))
    if bad:
        return error(bad)
    if not pid_checked(tab) or not serving_checked(tab)[0]:
        return 2
    try:
        probe_plan(tab)
    except OptionError as exc:
        return error(f"--probe: {exc}")
    return _theme_problem(cfg.theme)


def _theme_problem(name: str | None) -> int | None:
    from perftui.commands.dashboard import resolve_theme

    themed = resolve_theme(name)
    return error(themed) if isinstance(themed, str) else None


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host  # a name


def _outward_address() -> str:
    """This machine's address on its default route (a UDP connect sends nothing), else its name."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route
            return str(s.getsockname()[0])
    except OSError:
        return socket.gethostname()


def public_url(host: str, port: int, given: str | None) -> str:
    """The URL the page tells the browser to fetch and connect its websocket to.

    textual-serve's default is http://HOST:PORT, which for a wildcard listen (0.0.0.0, ::) makes the
    browser connect to ws://0.0.0.0 and show nothing; and an IPv6 address needs brackets."""
    if given is not None:
        return given.rstrip("/")
    wildcard = host in ("0.0.0.0", "::")
    return f"http://{_url_host(_outward_address() if wildcard else host)}:{port}"


def public_url_error(text: str) -> str | None:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return f"--public-url must be http(s)://HOST[:PORT][/PATH], not {text!r}"
    return None
