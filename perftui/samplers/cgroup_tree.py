"""The cgroup filesystem as a process sees it: mounts, a process's cgroup directories, the tree
walk of the box-wide pass, and whether perftui itself runs in a container."""

from __future__ import annotations

import os

from perftui.core.cgroup_names import identify, parse_proc_cgroup, path_for
from perftui.samplers.cgroup_files import CgroupDirs, Mounts, parse_mountinfo, read_small, resolve

MAX_DEPTH = 7


def load_mounts(proc_root: str = "/proc") -> Mounts:
    return parse_mountinfo(read_small(f"{proc_root}/self/mountinfo") or "")


def dirs_for(m: Mounts, proc_cgroup_text: str) -> tuple[CgroupDirs, str]:
    """A process's cgroup directories and its path (the memory one where they differ)."""
    lines = parse_proc_cgroup(proc_cgroup_text)
    if m.v1_controller("cpu") or m.v1_controller("memory"):
        got: dict[str, str | None] = {}
        for ctrl in ("cpu", "cpuacct", "memory", "blkio"):
            mp = m.v1.get(ctrl)
            p = path_for(lines, ctrl) if mp else None
            # the root cgroup of a controller has no limit and counts the whole box: not read
            at_root = p is None or p == "/" or (mp is not None and p == mp[1])
            got[ctrl] = resolve(mp[0], mp[1], p) if mp and p is not None and not at_root else None
        # one name where the controllers' paths differ: a container's, else the CPU one, else memory
        paths = [q for q in (path_for(lines, "cpu"), path_for(lines, "memory")) if q and q != "/"]
        named = [q for q in paths if identify(q).is_container]
        path = (named or paths or ["/"])[0]
        dirs = CgroupDirs(cpu=got["cpu"], cpuacct=got["cpuacct"], memory=got["memory"], blkio=got["blkio"])
        return dirs, path
    if m.v2:
        p = path_for(lines, "") or "/"
        if p == "/" or p == m.v2_root:
            return CgroupDirs(), p
        return CgroupDirs(v2=resolve(m.v2, m.v2_root, p)), p
    return CgroupDirs(), "/"


def own_dirs(m: Mounts, proc_cgroup_text: str) -> tuple[CgroupDirs, str]:
    """perftui's own cgroup when it runs in a container: there the mount root is the container's
    cgroup (a cgroup namespace, or its directory mounted as the root), so a path at the root names it."""
    dirs, path = dirs_for(m, proc_cgroup_text)
    if dirs != CgroupDirs():
        return dirs, path
    lines = parse_proc_cgroup(proc_cgroup_text)
    if m.v1_controller("cpu") or m.v1_controller("memory"):
        got = {
            c: resolve(m.v1[c][0], m.v1[c][1], path_for(lines, c) or m.v1[c][1]) if c in m.v1 else None
            for c in ("cpu", "cpuacct", "memory", "blkio")
        }
        return CgroupDirs(
            cpu=got["cpu"], cpuacct=got["cpuacct"], memory=got["memory"], blkio=got["blkio"]
        ), path
    if m.v2:
        return CgroupDirs(v2=resolve(m.v2, m.v2_root, path_for(lines, "") or m.v2_root)), path
    return dirs, path


def own_container(proc_root: str = "/proc", fs_root: str = "/") -> tuple[bool, str]:
    """Whether perftui runs inside a container, and the sign that says so (for the header)."""
    for marker, what in ((".dockerenv", "Docker"), ("run/.containerenv", "Podman")):
        if os.path.exists(os.path.join(fs_root, marker)):
            return True, f"{what} container (/{marker} exists)"
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return True, "Kubernetes pod (KUBERNETES_SERVICE_HOST is set)"
    for ln in parse_proc_cgroup(read_small(f"{proc_root}/self/cgroup") or ""):
        ident = identify(ln.path)
        if ident.is_container:
            return True, f"{ident.label} (from /proc/self/cgroup)"
    env = os.environ.get("container")  # noqa: SIM112 - systemd-nspawn/podman set lower-case
    if env:
        return True, f"{env} container ($container is set)"
    return False, "no container signs (/.dockerenv, /run/.containerenv, container cgroup path)"


def denied(d: str) -> bool:
    """Whether the cgroup's files are refused to this user (tried, as os.access checks the real uid)."""
    for name in ("cpu.stat", "memory.current", "memory.usage_in_bytes"):
        try:
            with open(os.path.join(d, name), "rb"):
                return False
        except PermissionError:
            return True
        except OSError:
            continue
    return False


def walk(top: str) -> list[str]:
    """Relative paths of every cgroup under `top` (depth-limited), without the root."""
    out: list[str] = []
    stack: list[tuple[str, str, int]] = [(top, "", 0)]
    while stack:
        d, rel, depth = stack.pop()
        if depth >= MAX_DEPTH:
            continue
        try:
            it = os.scandir(d)
        except OSError:
            continue  # no permission, or removed while walking
        with it:
            for e in it:
                try:
                    if not e.is_dir(follow_symlinks=False):
                        continue
                except OSError:
                    continue
                r = f"{rel}/{e.name}"
                out.append(r)
                stack.append((e.path, r, depth + 1))
    return out
