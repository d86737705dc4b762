"""Container limits: CPU quota and throttling, memory limit and usage, OOM kills, per-cgroup PSI.

With `--pid`: the attached process's cgroup, every tick. Without: the busiest cgroups on the box
(containers, pods, systemd units and slices with a limit), at most every 2 s: one pass reads each
candidate's counters, and the `TOP` most relevant (throttled, near a memory limit, then busiest) are
published (sticky: one stays while it ranks in the top 2×TOP). Keys: `cgroup.<name>.<metric>`,
`<name>` the cgroup in the user's terms (`docker-3f2a9c1b2d4e`, `pod-7c1e2a3b-ctr-…`,
`nginx.service`); the detail `cgroup.groups` maps each name to its label, kind and directories.
The detail `cgroup.self` says whether perftui itself runs in a container (its /proc view is then
the container's) and its own limits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from perftui.core.cgroup_names import CgroupIdentity, identify
from perftui.core.types import SourceStatus
from perftui.samplers.base import BaseSampler, Deltas, RateTracker, Values
from perftui.samplers.cgroup_files import CgroupDirs, Mounts, Raw, read_small
from perftui.samplers.cgroup_io import IoLimits, IoUse, device_name, limit_values, use_share
from perftui.samplers.cgroup_tree import denied, dirs_for, load_mounts, own_container, own_dirs, walk

BOX_INTERVAL_S = 2.0  # the box-wide pass runs at most this often
REDISCOVER_S = 10.0  # the cgroup tree is walked again (new containers), I/O limits re-read, this often
TOP = 6  # cgroups published per box-wide pass
MAX_CANDIDATES = 2000


class CgroupSampler(BaseSampler):
    def __init__(
        self,
        interval: float = 1.0,
        *,
        pid: int | None = None,
        proc_root: str = "/proc",
        mounts: Mounts | None = None,
        clock: Callable[[], float] = time.monotonic,
        top: int = TOP,
    ) -> None:
        self.name = "cgroup"
        self.pid = pid
        self.interval = interval
        self._last_pass: float | None = None
        self._proc = proc_root
        self._mounts = mounts if mounts is not None else load_mounts(proc_root)
        self._clock = clock
        self._top = top
        self._rates = RateTracker()
        self._deltas = Deltas()
        self._prev: dict[str, dict[str, float]] = {}
        self._prev_io: dict[str, IoUse] = {}
        self._groups: dict[str, dict[str, Any]] = {}
        self._published: dict[str, dict[str, Any]] = {}
        self._cands: list[tuple[str, CgroupIdentity, CgroupDirs, str]] = []
        self._limits: dict[str, Raw] = {}
        self._walked_at: float | None = None
        self._note = ""
        self._attached: str | None = None
        self._self: dict[str, Any] | None = None
        self._self_dirs: CgroupDirs | None = None
        self._self_at: float | None = None
        self._io_at: float | None = None  # the attached cgroup's I/O limits, read every REDISCOVER_S
        self._io_limits: IoLimits = {}

    # -- availability ------------------------------------------------------------------------------
    def availability(self) -> SourceStatus:
        if self._mounts.mode == "none":
            return SourceStatus.unavailable(
                "no cgroup filesystem mounted (no /proc/self/mountinfo cgroup entry)"
            )
        if self.pid is not None and read_small(f"{self._proc}/{self.pid}/cgroup") is None:
            return SourceStatus.unavailable(f"cannot read {self._proc}/{self.pid}/cgroup")
        return SourceStatus.ok()

    # -- sampling ----------------------------------------------------------------------------------
    def sample(self) -> Values:
        now = self._clock()
        if self.pid is not None:
            return self._sample_attached(now)
        return self._sample_box(now)

    def _sample_attached(self, now: float) -> Values:
        if self._attached is None or self._attached not in self._groups:
            text = read_small(f"{self._proc}/{self.pid}/cgroup")
            if text is None:
                self._note = f"process {self.pid} is gone or its cgroup is not readable"
                return {}
            dirs, path = dirs_for(self._mounts, text)
            ident = identify(path)
            if ident.kind == "root":
                self._note = f"process {self.pid} is in the root cgroup: no container limits apply"
                return {}
            slug = ident.slug
            self._attached = slug
            self._groups = {slug: self._group_info(ident, dirs, path)}
            self._cands = [(slug, ident, dirs, path)]
            self._io_at = None
        slug, _ident, dirs, _path = self._cands[0]
        if self._io_at is None or now - self._io_at >= REDISCOVER_S:  # I/O limits: up to 4 files (v1)
            self._io_at, self._io_limits = now, dirs.read_io_limits()
        raw = dirs.read(io_limits=self._io_limits)
        if raw.gone:
            self._note = f"cgroup of process {self.pid} disappeared"
            self._attached = None
            return {}
        self._published = dict(self._groups)
        out = self._values(slug, raw, now)
        d = dirs.cpu_dir or dirs.memory_dir
        refused = d is not None and not any(v is not None for v in out.values()) and denied(d)
        self._note = f"no permission to read {d}: run perftui as a user who may" if refused else ""
        return out

    def _sample_box(self, now: float) -> Values:
        # it shares the host thread's tick: the box-wide pass skips ticks to run at most every 2 s
        if self._last_pass is not None and now - self._last_pass < BOX_INTERVAL_S * 0.95:
            return {}
        self._last_pass = now
        if self._walked_at is None or now - self._walked_at >= REDISCOVER_S:
            self._discover()
            self._walked_at = now
        scored: list[tuple[float, str, Raw, CgroupDirs]] = []
        gone: list[str] = []
        before = dict(self._prev)  # each candidate's counters at the last pass (ranking replaces them)
        for slug, _ident, dirs, _path in self._cands:
            raw = dirs.read(limits=False, events=False)
            if raw.gone:
                gone.append(slug)
                continue
            lim = self._limits.get(slug)
            if lim is not None:
                raw.quota_cores, raw.mem_limit, raw.mem_high = lim.quota_cores, lim.mem_limit, lim.mem_high
                if lim.io_limits:  # ranked by its use of the limit too: its counters read every pass
                    raw.io_limits = lim.io_limits
                    dirs.read_io(raw)
            scored.append((self._score(slug, raw, now), slug, raw, dirs))
        if gone:
            self._cands = [c for c in self._cands if c[0] not in gone]
        scored.sort(key=lambda t: -t[0])
        out: Values = {}
        pub: dict[str, dict[str, Any]] = {}
        chosen = self._choose([slug for _s, slug, _r, _d in scored])
        for _score, slug, raw, dirs in scored:
            if slug in chosen:  # events, PSI and the values only for the published ones
                if slug not in self._published:  # entering the top K: rates from the last pass's counters
                    self._seed(slug, before.get(slug))
                dirs.read_events(raw)
                out.update(self._values(slug, raw, now))
                pub[slug] = self._groups[slug]
            elif raw.io_limits:  # its I/O-limit rates stay current (their keys are limit_values')
                self._values(slug, raw, now)
        self._published = pub
        self._note = "" if self._cands else "no container, pod or limited cgroup found"
        return out

    def _seed(self, slug: str, prev: Mapping[str, float] | None) -> None:
        """The CPU rates of a cgroup not published last pass start from the counters ranking read
        then, so it has values the pass it enters the top K (building values for every candidate
        each pass was a fifth of a 200-cgroup pass)."""
        if prev is None:
            return
        p, t = f"cgroup.{slug}.", prev["t"]
        for key, name in (("cpu_usage_s", "u"), ("throttled_s", "ts")):
            if key in prev:
                self._rates.seed(p + name, prev[key], t)
        for key, name in (("nr_periods", "np"), ("nr_throttled", "nt")):
            if key in prev:
                self._deltas.seed(p + name, prev[key])

    def _choose(self, ranked: list[str]) -> set[str]:
        """The top K, sticky: a published cgroup stays while it ranks in the top 2K, so the set (and
        the store's keys) does not churn when cgroups of similar load swap places."""
        keep = [n for n in ranked[: 2 * self._top] if n in self._published][: self._top]
        chosen = set(keep)
        for n in ranked:
            if len(chosen) >= self._top:
                break
            chosen.add(n)
        return chosen

    def _score(self, slug: str, raw: Raw, now: float) -> float:
        """Throttled first, then near a memory limit, then CPU use; cumulative counters kept for
        the values of the published ones (their rates then cover the same interval)."""
        prev = self._prev.get(slug)
        cur = {"t": now}
        for k in ("cpu_usage_s", "nr_periods", "nr_throttled", "throttled_s"):
            v = getattr(raw, k)
            if v is not None:
                cur[k] = v
        self._prev[slug] = cur
        prev_io = self._prev_io.pop(slug, None)
        if raw.io_limits:
            self._prev_io[slug] = raw.io_use
        if prev is None:
            return 0.0
        dt = now - prev["t"]
        if dt <= 0:
            return 0.0
        score = 0.0
        if raw.io_limits and prev_io is not None:
            share = use_share(raw.io_limits, prev_io, raw.io_use, dt)
            score += 500.0 * share if share >= 0.8 else 0.0
        dp = cur.get("nr_periods", 0.0) - prev.get("nr_periods", 0.0)
        if dp > 0:
            score += 1000.0 * (cur.get("nr_throttled", 0.0) - prev.get("nr_throttled", 0.0)) / dp
        if raw.mem_limit and raw.mem_used is not None:
            share = raw.mem_used / raw.mem_limit
            score += 500.0 * share if share >= 0.8 else 0.0
        score += max(0.0, (cur.get("cpu_usage_s", 0.0) - prev.get("cpu_usage_s", 0.0)) / dt)
        return score

    def _values(self, slug: str, raw: Raw, now: float) -> Values:
        p = f"cgroup.{slug}."
        out: Values = {}
        r = self._rates
        if raw.quota_cores is not None:
            out[p + "cpu_quota_cores"] = raw.quota_cores
        if raw.cpu_usage_s is not None:
            out[p + "cpu_used_cores"] = r.rate(p + "u", raw.cpu_usage_s, now)
        if raw.nr_periods is not None and raw.nr_throttled is not None:
            dper = self._deltas.delta(p + "np", raw.nr_periods)
            dthr = self._deltas.delta(p + "nt", raw.nr_throttled)
            if dper is not None and dthr is not None and dper > 0:
                out[p + "throttled_pct"] = min(100.0, 100.0 * dthr / dper)
            elif dper == 0 and raw.quota_cores is not None:
                out[p + "throttled_pct"] = 0.0  # a quota and no period used: idle, not throttled
        if raw.throttled_s is not None:
            out[p + "throttled_s_per_s"] = r.rate(p + "ts", raw.throttled_s, now)
        if raw.mem_limit is not None:
            out[p + "mem_limit_bytes"] = raw.mem_limit
        if raw.mem_high is not None:
            out[p + "mem_high_bytes"] = raw.mem_high
        if raw.mem_used is not None:
            out[p + "mem_used_bytes"] = raw.mem_used
            lim = min(x for x in (raw.mem_limit, raw.mem_high, float("inf")) if x is not None)
            if lim != float("inf") and lim > 0:
                out[p + "mem_used_pct"] = 100.0 * raw.mem_used / lim
        for key, v in (
            ("oom_kills", raw.oom_kills),
            ("mem_limit_events", raw.mem_limit_events),
            ("mem_high_events", raw.mem_high_events),
        ):
            if v is not None:
                out[p + key] = self._deltas.delta(p + key, v)
        if raw.io_read is not None:
            out[p + "io_read_bytes_per_s"] = r.rate(p + "ior", raw.io_read, now)
        if raw.io_write is not None:
            out[p + "io_write_bytes_per_s"] = r.rate(p + "iow", raw.io_write, now)
        if raw.io_limits:
            vals, where = limit_values(p, raw.io_limits, raw.io_use, lambda k, v: r.rate(k, v, now))
            out.update(vals)
            info = self._groups.get(slug)
            if info is not None:
                info["io_limits"] = raw.io_limits
                info["io_devices"] = {kind: device_name(dev) for kind, dev in where.items()}
        for res_kind, total in raw.psi_us.items():
            res, kind = res_kind.split(".")
            rate = r.rate(p + "psi" + res_kind, total, now, scale=100.0 / 1e6)
            out[f"{p}psi_{res}_{kind}_pct"] = None if rate is None else min(100.0, rate)
        return out

    # -- discovery ---------------------------------------------------------------------------------
    def _discover(self) -> None:
        m = self._mounts
        v1 = m.v1_controller("cpu") or m.v1_controller("memory")
        trees = {c: m.v1[c][0] for c in ("cpu", "memory") if c in m.v1} if v1 else {"v2": m.v2 or ""}
        present: dict[str, set[str]] = {}
        rels: dict[str, None] = {}
        for ctrl, top in trees.items():
            found = walk(top)[:MAX_CANDIDATES]
            present[ctrl] = set(found)
            for rel in found:
                rels.setdefault(rel, None)
        cands: list[tuple[str, CgroupIdentity, CgroupDirs, str]] = []
        limits: dict[str, Raw] = {}
        seen: set[str] = set()
        known = {c[3]: c[2] for c in self._cands}
        for rel in list(rels)[:MAX_CANDIDATES]:
            dirs = known.get(rel) or self._dirs_for_rel(rel, present, extra=False)
            raw = dirs.read_limits()
            ident = identify(rel)
            limited = (
                raw.quota_cores is not None
                or raw.mem_limit is not None
                or raw.mem_high is not None
                or bool(raw.io_limits)
            )
            if ident.kind == "cgroup" and not limited:
                continue
            if rel not in known and v1:
                dirs = self._dirs_for_rel(rel, present, extra=True)  # cpuacct, blkio: candidates only
            if v1:
                raw.io_limits = dirs.read_io_limits()
            slug = ident.slug
            if slug in seen:
                slug = f"{slug}~{len(seen)}"
            seen.add(slug)
            cands.append((slug, ident, dirs, rel))
            limits[slug] = raw
            self._groups[slug] = self._group_info(ident, dirs, rel)
        self._cands, self._limits = cands, limits

    def _dirs_for_rel(self, rel: str, present: Mapping[str, set[str]], extra: bool) -> CgroupDirs:
        m = self._mounts
        if "v2" in present:
            return CgroupDirs(v2=os.path.normpath((m.v2 or "") + "/" + rel))
        got: dict[str, str | None] = {}
        for ctrl in ("cpu", "memory", "cpuacct", "blkio"):
            mp = m.v1.get(ctrl)
            d = os.path.normpath(mp[0] + "/" + rel) if mp else None
            if ctrl in present:
                got[ctrl] = d if rel in present[ctrl] else None
            else:
                got[ctrl] = d if extra and d and os.path.isdir(d) else None
        return CgroupDirs(cpu=got["cpu"], cpuacct=got["cpuacct"], memory=got["memory"], blkio=got["blkio"])

    @staticmethod
    def _group_info(ident: CgroupIdentity, dirs: CgroupDirs, path: str) -> dict[str, Any]:
        return {
            "label": ident.label,
            "kind": ident.kind,
            "path": path,
            "cpu_dir": dirs.cpu_dir,
            "memory_dir": dirs.memory_dir,
            "io_dir": dirs.io_dir,
            "container_id": ident.container_id,
            "pod_uid": ident.pod_uid,
            "unit": ident.unit,
        }

    # -- facts -------------------------------------------------------------------------------------
    def self_facts(self) -> dict[str, Any]:
        """perftui's own container and limits (found once); inside a container its use of them
        (throttled %, memory used, I/O limits) is read again at most every BOX_INTERVAL_S."""
        if self._self is None:
            inside, why = own_container(self._proc)
            facts: dict[str, Any] = {"in_container": inside, "reason": why}
            text = read_small(f"{self._proc}/self/cgroup")
            if text is not None:
                dirs, path = own_dirs(self._mounts, text) if inside else dirs_for(self._mounts, text)
                self._self_dirs = dirs if inside else None
                raw = dirs.read(psi=False)
                facts.update(
                    label=identify(path).label,
                    cpu_quota_cores=raw.quota_cores,
                    mem_limit_bytes=raw.mem_limit,
                )
            if inside:
                facts["note"] = (
                    "perftui runs in a container: /proc is the container's, host-wide sources may be partial"
                )
            self._self = facts
        now = self._clock()
        if self._self_dirs is not None and (self._self_at is None or now - self._self_at >= BOX_INTERVAL_S):
            self._self_at = now
            raw = self._self_dirs.read(psi=False)
            dper = self._deltas.delta("self.np", raw.nr_periods) if raw.nr_periods is not None else None
            dthr = self._deltas.delta("self.nt", raw.nr_throttled) if raw.nr_throttled is not None else None
            self._self.update(
                cpu_quota_cores=raw.quota_cores,
                throttled_pct=100.0 * dthr / dper if dper and dthr is not None else None,
                mem_limit_bytes=raw.mem_limit,
                mem_used_bytes=raw.mem_used,
                io_limits=raw.io_limits,
            )
        return self._self

    def details(self) -> Mapping[str, Any]:
        return {
            "cgroup.mode": self._mounts.mode,
            "cgroup.groups": self._published,
            # the same as rows (report tables take lists of rows)
            "cgroup.limits": [
                {"name": name, "label": g["label"], "kind": g["kind"], "dir": g["cpu_dir"] or g["memory_dir"]}
                for name, g in self._published.items()
            ],
            "cgroup.attached": self._attached,
            "cgroup.note": self._note,
            "cgroup.self": self.self_facts(),
        }


def cgroup_sampler(interval: float, pid: int | None) -> CgroupSampler:
    """The attached process's cgroup (`--pid`), else the busiest cgroups; in the host thread
    (it only reads cgroupfs)."""
    s = CgroupSampler(interval, pid=pid)
    s.thread_group = "host"
    return s
