"""Fixture cgroup trees (tests/fixtures/cgroup/<case>) copied to a temporary root the tests may change."""

from __future__ import annotations

import shutil
from pathlib import Path

from perftui.samplers.cgroup_files import Mounts, parse_mountinfo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cgroup"
DOCKER = "docker-3f2a9c1b2d4e"  # the Docker container of the fixture trees, as the sampler names it
D64 = "3f2a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"  # its full ID


class Clock:
    """A clock the test moves (`clock.t += 2`)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def tree(case: str, tmp: Path) -> tuple[Path, Mounts]:
    """The case's tree under `tmp`, and its mounts rewritten to point there."""
    root = tmp / case
    shutil.copytree(FIXTURES / case, root)
    m = parse_mountinfo((root / "mountinfo").read_text())
    v1 = {c: (str(root) + point, r) for c, (point, r) in m.v1.items()}
    v2 = str(root) + m.v2 if m.v2 else None
    return root, Mounts(v2, m.v2_root, v1)


def bump(path: Path, key: str, by: float) -> None:
    """Advance one `key value` counter in a cgroup file (or a one-number file when key is '')."""
    lines = path.read_text().splitlines()
    out = []
    for line in lines:
        k, _, v = line.partition(" ")
        if not key:
            out.append(str(int(float(line) + by)))
        elif k == key:
            out.append(f"{k} {int(float(v) + by)}")
        else:
            out.append(line)
    path.write_text("\n".join(out) + "\n")
