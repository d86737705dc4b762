"""The exporter's prometheus_client Collector: it reads the store and the latest diagnosis only.

A scrape never calls a sampler (no NVML, no /proc): it reads each key's latest value, so a hung
GPU tick cannot hold it. A source whose last sample is older than its interval plus `STALE_GRACE_S`
is reported as stale (`perftui_source_stale{source} 1`) while its last values are still served.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from perftui import __version__
from perftui.diagnosis.model import VERDICT_CLASSES, Diagnosis
from perftui.exporter.dcgm import dcgm_families, gpu_indices
from perftui.exporter.names import PREFIX, PromName, prom_name
from perftui.store.metric_store import MetricStore

STALE_GRACE_S = 1.0
CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "medium", "low")


def _reason_label(reason: str | None) -> str:
    """A status reason without its changing numbers (a label value must not churn every second)."""
    return re.sub(r"\s*for \d+ s$", "", reason or "")


class StoreCollector(Collector):
    def __init__(
        self,
        store: MetricStore,
        *,
        host: str,
        compat_dcgm: bool = False,
        diagnosis: Callable[[], Diagnosis | None] = lambda: None,
        intervals: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.host = host
        self.compat_dcgm = compat_dcgm
        self._diagnosis = diagnosis
        self.intervals = dict(intervals or {})  # source -> sampling interval (stale after it + grace)
        self._clock = clock

    # -- perftui's own metrics -------------------------------------------
    def _gpu_info(self) -> GaugeMetricFamily:
        """Static GPU facts once per GPU (join on `gpu`), not on every series: cheaper to scrape."""
        fam = GaugeMetricFamily(
            PREFIX + "gpu_info",
            "1 per GPU; its static facts as labels (join on host and gpu)",
            labels=["host", "gpu", "uuid", "model", "pci_bus_id", "tier"],
        )
        # by index from the keys: iterating the details dict would race a sampler adding one
        for index in gpu_indices(self.store):
            info = self.store.detail(f"gpu.{index}.info")
            if isinstance(info, dict):
                fam.add_metric(
                    [
                        self.host,
                        str(index),
                        str(info.get("uuid") or ""),
                        str(info.get("name") or ""),
                        str(info.get("pci_bus_id") or ""),
                        str(self.store.detail(f"gpu.{index}.tier") or ""),
                    ],
                    1.0,
                )
        return fam

    def _metric_families(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, tuple[GaugeMetricFamily, tuple[str, ...]]] = {}
        host = self.host
        for key in self.store.keys(""):  # sorted, copied under the store's key lock
            value = self.store.latest(key)
            if value is None or math.isnan(value):
                continue
            pn: PromName = prom_name(key)
            entry = families.get(pn.name)
            if entry is None:
                names = ("host", *(n for n, _ in pn.labels))
                entry = families[pn.name] = (GaugeMetricFamily(pn.name, pn.help, labels=names), names)
            elif len(entry[1]) != len(pn.labels) + 1 or entry[1][1:] != tuple(n for n, _ in pn.labels):
                continue  # two keys for one name with different labels: the first one wins
            entry[0].add_metric((host, *(v for _, v in pn.labels)), value * pn.scale)
        for fam, _ in families.values():
            yield fam
        info = self._gpu_info()
        if info.samples:
            yield info

    # -- source status ---------------------------------------------------
    def _status_families(self, now: float) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            PREFIX + "source_up",
            "1 when the source can be sampled, 0 when not (see reason)",
            labels=["host", "source", "reason"],
        )
        stale = GaugeMetricFamily(
            PREFIX + "source_stale",
            "1 when the source's last sample is overdue (a hung GPU, a stalled /proc read): "
            "its metrics are its last values",
            labels=["host", "source"],
        )
        age = GaugeMetricFamily(
            PREFIX + "source_last_sample_age_seconds",
            "seconds since the source's last sample",
            labels=["host", "source"],
        )
        for source, status in sorted(self.store.statuses().items()):
            up.add_metric([self.host, source, _reason_label(status.reason)], 1.0 if status.available else 0.0)
            last = self.store.last_sample_ts(source)
            if last is None:
                continue
            ago = max(0.0, now - last)
            age.add_metric([self.host, source], ago)
            interval = self.intervals.get(source)
            overdue = interval is not None and ago > interval + STALE_GRACE_S
            late = (status.reason or "").startswith("stale:")
            stale.add_metric([self.host, source], 1.0 if (overdue or late) else 0.0)
        yield from (up, stale, age)

    # -- diagnosis -------------------------------------------------------
    def _diagnosis_families(self) -> Iterator[GaugeMetricFamily]:
        diag = self._diagnosis()
        if diag is None:
            return
        verdict = GaugeMetricFamily(
            PREFIX + "diagnosis_verdict",
            "1 for the current bottleneck verdict, 0 for the others",
            labels=["host", "verdict"],
        )
        for name in VERDICT_CLASSES:
            verdict.add_metric([self.host, name], 1.0 if diag.verdict == name else 0.0)
        if diag.verdict not in VERDICT_CLASSES:
            verdict.add_metric([self.host, diag.verdict], 1.0)
        conf = GaugeMetricFamily(
            PREFIX + "diagnosis_confidence",
            "1 for the current verdict's confidence level, 0 for the others",
            labels=["host", "confidence"],
        )
        for level in CONFIDENCE_LEVELS:
            conf.add_metric([self.host, level], 1.0 if diag.confidence == level else 0.0)
        score = GaugeMetricFamily(
            PREFIX + "diagnosis_finding_score",
            "ranking score of each current finding (higher first)",
            labels=["host", "verdict", "rule", "subject", "confidence"],
        )
        seen: set[tuple[str, str, str]] = set()
        for f in diag.findings:
            ident = (f.verdict, f.rule, f.subject)
            if ident in seen:
                continue
            seen.add(ident)
            score.add_metric([self.host, f.verdict, f.rule, f.subject, f.confidence], float(f.score))
        yield from (verdict, conf, score)
        if diag.since is not None:
            since = GaugeMetricFamily(
                PREFIX + "diagnosis_verdict_since_timestamp_seconds",
                "when the current verdict took hold (Unix time)",
                labels=["host"],
            )
            since.add_metric([self.host], float(diag.since))
            yield since

    def collect(self) -> Iterable[GaugeMetricFamily | InfoMetricFamily]:
        now = self._clock()
        info = InfoMetricFamily(PREFIX + "exporter", "perftui exporter build", labels=["host"])
        info.add_metric([self.host], {"version": __version__})
        yield info
        yield from self._metric_families()
        yield from self._status_families(now)
        yield from self._diagnosis_families()
        if self.compat_dcgm:
            yield from dcgm_families(self.store, self.host)
