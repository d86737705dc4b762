"""Container identity from cgroup paths: who a cgroup is, in the user's terms (pure parsing, no I/O).

`/proc/PID/cgroup` lines (`hierarchy-ID:controllers:path`) and cgroup directory paths name the
container runtime's layout. Recognised (cgroup v1 and v2, systemd and cgroupfs drivers):
  Docker      /docker/<64 hex>, /system.slice/docker-<64 hex>.scope
  Kubernetes  /kubepods[.slice]/<qos>/pod<UID>/<container id> with the runtime prefixes
              (cri-containerd-, crio-, docker-); the pod UID's `_` (systemd driver) become `-`
  Podman      .../libpod-<64 hex>.scope, /machine.slice/libpod-..., libpod-conmon-... (its monitor)
  LXC         /lxc/<name>, /lxc.payload.<name>
  systemd     the last .service / .scope / .slice component (e.g. nginx.service, user-1000.slice)
Used by the cgroup sampler (its key names and labels) and by the process list (its container column).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_HEX64 = r"[0-9a-f]{64}"
_CONTAINER = re.compile(rf"^(?:(?:docker|cri-containerd|crio|libpod|containerd)-)?({_HEX64})(?:\.scope)?$")
_POD = re.compile(
    r"^(?:kubepods-(?:besteffort-|burstable-|guaranteed-)?)?pod([0-9a-fA-F_-]{36})(?:\.slice)?$"
)
_RUNTIME_PREFIX = re.compile(r"^(docker|cri-containerd|crio|libpod|containerd)-")
_UNIT = re.compile(r"\.(service|scope|slice|mount|socket)$")
_LONG_HEX = re.compile(r"^[0-9a-f]{24,}$")
_SAFE = re.compile(r"[^A-Za-z0-9_.@:-]")


class CgroupLine(NamedTuple):
    """One line of /proc/<pid>/cgroup: hierarchy ID, controllers, path."""

    hierarchy: int
    controllers: tuple[str, ...]  # () for the v2 line `0::/path`; ("name=systemd",) for named v1
    path: str


class CgroupIdentity(NamedTuple):
    """Who a cgroup path belongs to: a container, a pod, a systemd unit, or the machine."""

    kind: str  # docker | kubernetes | podman | containerd | lxc | systemd | cgroup | root
    label: str  # what a user calls it: "docker 3f2a9c1b2d4e", "pod 7c1e…/ctr 3f2a…", "nginx.service"
    container_id: str = ""  # the full ID where there is one
    pod_uid: str = ""
    unit: str = ""  # the systemd unit (or slice) the cgroup is, or sits in
    runtime: str = ""  # docker, containerd, cri-o, podman for a container

    @property
    def is_container(self) -> bool:
        return bool(self.container_id) or self.kind == "lxc"

    @property
    def slug(self) -> str:
        """A short name for store keys: `docker-3f2a9c1b2d4e`, `pod-7c1e2a3b-ctr-3f2a9c1b2d4e`."""
        if self.kind == "kubernetes":
            pod = f"pod-{self.pod_uid[:8]}"
            return f"{pod}-ctr-{self.container_id[:12]}" if self.container_id else pod
        if self.container_id:
            return f"{self.kind}-{self.container_id[:12]}"
        short = "/".join(c[:12] if _LONG_HEX.match(c) else c for c in self.label.split("/"))
        return _SAFE.sub("_", short) or "root"


def parse_proc_cgroup(text: str) -> list[CgroupLine]:
    """`/proc/PID/cgroup` -> its lines; malformed lines are skipped."""
    out: list[CgroupLine] = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[2].startswith("/"):
            continue
        try:
            hid = int(parts[0])
        except ValueError:
            continue
        ctrls = tuple(c for c in parts[1].split(",") if c)
        out.append(CgroupLine(hid, ctrls, parts[2]))
    return out


def path_for(lines: list[CgroupLine], controller: str) -> str | None:
    """The path of the v1 hierarchy holding `controller`, else the v2 (`0::`) path."""
    for ln in lines:
        if controller in ln.controllers:
            return ln.path
    for ln in lines:
        if ln.hierarchy == 0 and not ln.controllers:
            return ln.path
    return None


def _runtime(component: str) -> str:
    m = _RUNTIME_PREFIX.match(component)
    name = m.group(1) if m else ""
    return {"cri-containerd": "containerd", "crio": "cri-o", "libpod": "podman"}.get(name, name)


def identify(path: str) -> CgroupIdentity:
    """Who the cgroup at `path` (relative to its hierarchy's root) is."""
    parts = [p for p in path.strip().split("/") if p]
    if not parts:
        return CgroupIdentity("root", "root cgroup")
    # Deleted cgroups read "/x (deleted)" in /proc/PID/cgroup on some kernels.
    parts[-1] = parts[-1].removesuffix(" (deleted)")
    pod_uid = ""
    container = ""
    runtime = ""
    unit = ""
    if parts[-1].startswith("libpod-conmon-"):  # podman's monitor process, not the container
        cid = parts[-1][len("libpod-conmon-") :].removesuffix(".scope")
        return CgroupIdentity("podman-conmon", f"podman conmon {cid[:12]}", unit=parts[-1])
    for comp in parts:
        pm = _POD.match(comp)
        if pm and ("kubepods" in path):
            pod_uid = pm.group(1).replace("_", "-").lower()
            continue
        cm = _CONTAINER.match(comp)
        if cm:
            container, runtime = cm.group(1), _runtime(comp)
            continue
        if _UNIT.search(comp):
            unit = comp
    top = parts[0]
    if pod_uid:
        label = f"pod {pod_uid[:8]}" + (f" container {container[:12]}" if container else "")
        return CgroupIdentity("kubernetes", label, container, pod_uid, unit, runtime or "")
    if container:
        kind = (
            "podman" if runtime == "podman" else "docker" if (runtime == "docker" or top == "docker") else ""
        )
        kind = kind or runtime or "container"
        return CgroupIdentity(kind, f"{kind} {container[:12]}", container, "", unit, runtime or kind)
    if top == "lxc" and len(parts) > 1:
        return CgroupIdentity("lxc", f"lxc {parts[1]}", unit=unit)
    if top.startswith("lxc.payload."):
        return CgroupIdentity("lxc", f"lxc {top[len('lxc.payload.') :]}", unit=unit)
    last = parts[-1]
    if _UNIT.search(last):
        return CgroupIdentity("systemd", last, unit=last)
    if unit:
        return CgroupIdentity("systemd", f"{unit}/{'/'.join(parts[parts.index(unit) + 1 :])}", unit=unit)
    return CgroupIdentity("cgroup", "/".join(parts))


def container_of(proc_cgroup_text: str) -> CgroupIdentity | None:
    """The container a process runs in, from its `/proc/PID/cgroup` text; None outside any container."""
    for ln in parse_proc_cgroup(proc_cgroup_text):
        ident = identify(ln.path)
        if ident.is_container:
            return ident
    return None
