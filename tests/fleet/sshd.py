"""A real OpenSSH server on 127.0.0.1 for the fleet tests: keys, config and known_hosts in tmp."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.polling import wait_for

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
SSH_KEYGEN = shutil.which("ssh-keygen")
REPO = Path(__file__).resolve().parents[2]
PERFTUI_CMD = f"{sys.executable} -m perftui"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> str:
    assert SSH_KEYGEN is not None
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return (
        path.with_suffix(".pub").read_text().strip()
        if path.suffix
        else Path(f"{path}.pub").read_text().strip()
    )


@dataclass
class Sshd:
    root: Path
    port: int
    proc: subprocess.Popen[bytes]
    host_pub: str
    config: Path = field(init=False)
    aliases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.config = self.root / "ssh_config"

    def write_config(self, blocks: dict[str, dict[str, str | int]]) -> Path:
        """ssh_config with one `Host` block per alias (defaults: this server, its key, known_hosts)."""
        base: dict[str, str | int] = {
            "HostName": "127.0.0.1",
            "Port": self.port,
            "User": getpass.getuser(),
            "IdentityFile": str(self.root / "id_user"),
            "IdentitiesOnly": "yes",
            "UserKnownHostsFile": str(self.root / "known_hosts"),
            "GlobalKnownHostsFile": "/dev/null",
            "StrictHostKeyChecking": "yes",
            "LogLevel": "ERROR",
        }
        text = []
        for alias, over in blocks.items():
            text.append(f"Host {alias}")
            text += [f"    {k} {v}" for k, v in {**base, **over}.items()]
        self.config.write_text("\n".join(text) + "\n")
        return self.config

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_sshd(root: Path) -> Sshd:
    assert SSHD is not None
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True) if os.geteuid() == 0 else None
    host_key = root / "host_key"
    host_pub = _keygen(host_key)
    user_pub = _keygen(root / "id_user")
    (root / "authorized_keys").write_text(user_pub + "\n")
    (root / "authorized_keys").chmod(0o600)
    port = free_port()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_pub.split()[:2])}\n")
    (root / "sshd_config").write_text(
        "\n".join(
            [
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {root / 'authorized_keys'}",
                f"PidFile {root / 'sshd.pid'}",
                "ListenAddress 127.0.0.1",
                "UsePAM no",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "StrictModes no",
                "AllowAgentForwarding no",
                "X11Forwarding no",
                "MaxSessions 200",
                "MaxStartups 200:30:300",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(root / "sshd_config"), "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "sshd.log", "wb"),  # noqa: SIM115 - kept for the process's life
    )

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    if not wait_for(listening, timeout=10):
        proc.kill()
        raise RuntimeError("sshd did not start: " + (root / "sshd.log").read_text()[-500:])
    return Sshd(root, port, proc, host_pub)
