"""Host names and the ssh command line: validated before ssh runs, built as an argument list.

Nothing here runs a process. A destination is refused when it could be read by ssh as an option
(leading `-`) or carries whitespace or control characters; the remote command is the user's
`--remote-cmd` (their own shell words, run by their own remote shell) followed by our arguments,
each quoted with `shlex.quote`. Agent and X11 forwarding are always off, BatchMode is on so ssh
never prompts (an unknown host key then fails instead of being accepted), and
StrictHostKeyChecking is left as the user configured it.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REMOTE_CMD = "perftui"
MAX_HOST_LEN = 255


class HostError(ValueError):
    """A host list the user gave cannot be used; the message is one line."""


def host_problem(host: str) -> str | None:
    """Why `host` is refused as an ssh destination, or None when it is acceptable."""
    if not host:
        return "empty host name"
    if len(host) > MAX_HOST_LEN:
        return f"host name longer than {MAX_HOST_LEN} characters"
    if host.startswith("-"):
        return f"host name {host!r} begins with '-' (ssh would read it as an option)"
    for ch in host:
        if ch.isspace() or unicodedata.category(ch)[0] == "C":
            return f"host name {host!r} contains whitespace or a control character"
    return None


def check_hosts(hosts: Iterable[str]) -> list[str]:
    """The hosts in order without duplicates; HostError on the first refused one."""
    out: list[str] = []
    for host in hosts:
        problem = host_problem(host)
        if problem is not None:
            raise HostError(problem)
        if host not in out:
            out.append(host)
    return out


def read_hosts_file(path: str | os.PathLike[str]) -> list[str]:
    """One ssh destination per line; blank lines and `#` comments skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise HostError(f"cannot read hosts file {path}: {exc.strerror}") from None
    hosts = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            hosts.append(line)
    return hosts


@dataclass(frozen=True)
class SshOptions:
    ssh: str = "ssh"
    connect_timeout: float = 10.0
    remote_cmd: str = DEFAULT_REMOTE_CMD
    interval: float = 2.0
    no_gpu: bool = False
    ssh_config: str | None = None  # -F FILE
    control_persist: float | None = None  # seconds: share connections through a private ControlPath
    extra_args: tuple[str, ...] = ()  # extra arguments for `perftui stream`


def control_dir() -> Path:
    """A private directory (0700) for ControlPath sockets."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"perftui-ssh-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def remote_command(opts: SshOptions) -> str:
    words = ["stream", "--interval", f"{opts.interval:g}"]
    if opts.no_gpu:
        words.append("--no-gpu")
    words.extend(opts.extra_args)
    return " ".join([opts.remote_cmd.strip() or DEFAULT_REMOTE_CMD, *(shlex.quote(w) for w in words)])


def ssh_argv(host: str, opts: SshOptions) -> list[str]:
    """The argument list that runs `perftui stream` on `host` (validated here again)."""
    problem = host_problem(host)
    if problem is not None:
        raise HostError(problem)
    argv = [opts.ssh]
    if opts.ssh_config:
        argv += ["-F", opts.ssh_config]
    argv += [
        "-T",  # no terminal: the stream is data
        "-a",  # never agent forwarding
        "-x",  # nor X11
        "-o",
        "ForwardAgent=no",
        "-o",
        "ClearAllForwardings=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={max(1, round(opts.connect_timeout))}",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=3",
    ]
    if opts.control_persist is not None:
        argv += [
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={control_dir()}/%C",
            "-o",
            f"ControlPersist={max(1, round(opts.control_persist))}",
        ]
    argv += ["--", host, remote_command(opts)]
    return argv


def describe_argv(argv: Sequence[str]) -> str:
    return shlex.join(argv)
