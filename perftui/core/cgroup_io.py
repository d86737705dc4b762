"""The names of a cgroup's I/O limits, shared by the cgroup sampler and the diagnosis that cites them.

Kinds as v2's `io.max` spells them; v1 keeps each kind in a file of its own."""

from __future__ import annotations

KINDS = ("rbps", "wbps", "riops", "wiops")
V1_FILES = {
    "rbps": "blkio.throttle.read_bps_device",
    "wbps": "blkio.throttle.write_bps_device",
    "riops": "blkio.throttle.read_iops_device",
    "wiops": "blkio.throttle.write_iops_device",
}
