from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.sshd import SSH_KEYGEN, SSHD, Sshd, start_sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if SSHD is None or SSH_KEYGEN is None:
        pytest.skip("OpenSSH server not installed (apt-get install openssh-server openssh-client)")
    root: Path = tmp_path_factory.mktemp("sshd")
    root.chmod(0o700)
    server = start_sshd(root)
    yield server
    server.stop()
