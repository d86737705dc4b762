"""The host sources, in the order their panels appear."""

from __future__ import annotations

from perftui.samplers.base import BaseSampler, Sampler
from perftui.samplers.cpu import CpuSampler
from perftui.samplers.disk import DiskSampler
from perftui.samplers.membw import MemBwSampler
from perftui.samplers.memory import MemorySampler
from perftui.samplers.net import NetSampler
from perftui.samplers.psi import PsiSampler

HOST_THREAD = "host"


def host_samplers(interval: float, proc_root: str = "/proc", sys_root: str = "/sys") -> list[Sampler]:
    """cpu, memory, psi, disk, net, membw — sharing one thread: they only read /proc and /sys."""
    samplers: list[BaseSampler] = [
        CpuSampler(interval, proc_root=proc_root, sys_root=sys_root),
        MemorySampler(interval, proc_root=proc_root),
        PsiSampler(interval, proc_root=proc_root),
        DiskSampler(interval, proc_root=proc_root, sys_root=sys_root),
        NetSampler(interval, proc_root=proc_root, sys_root=sys_root),
        MemBwSampler(interval, sys_root=sys_root),
    ]
    for sampler in samplers:
        sampler.thread_group = HOST_THREAD
    return list(samplers)
