"""The live exporter: samplers feed a store at their own interval, a diagnosis tracker runs beside
them, and scrapes read both through `StoreCollector` (never the samplers)."""

from __future__ import annotations

import contextlib
import threading
from typing import Protocol

from prometheus_client import CollectorRegistry

from perftui.diagnosis.model import Diagnosis
from perftui.exporter.collector import StoreCollector
from perftui.exporter.server import ExporterServer
from perftui.store.metric_store import MetricStore


class Runner(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float = 2.0) -> None: ...


def diagnosis_window_s(interval: float) -> float:
    """Enough ticks for the engine's rules: 10 s, or five ticks when sampling is slower."""
    return max(10.0, 5.0 * interval)


class LiveDiagnosis:
    """The latest verdict, recomputed every `period` seconds in its own thread."""

    def __init__(self, store: MetricStore, window_s: float, period: float) -> None:
        self.store = store
        self.window_s = window_s
        self.period = period
        self.current: Diagnosis | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        from perftui.diagnosis.tracker import DiagnosisTracker

        self._tracker = DiagnosisTracker()

    def step(self) -> None:
        if self.store.last_ts is None:
            return
        with contextlib.suppress(NotImplementedError):
            self.current = self._tracker.update(self.store, self.window_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            with contextlib.suppress(Exception):  # a rule's bug must not stop the exporter
                self.step()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="perftui-diagnosis", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)


class LiveExporter:
    def __init__(
        self,
        store: MetricStore,
        runner: Runner,
        server: ExporterServer,
        collector: StoreCollector,
        diagnosis: LiveDiagnosis,
    ) -> None:
        self.store = store
        self.runner = runner
        self.server = server
        self.collector = collector
        self.diagnosis = diagnosis

    @staticmethod
    def registry_for(collector: StoreCollector) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        return registry

    def start(self) -> None:
        self.runner.start()
        self.diagnosis.start()
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.diagnosis.stop()
        self.runner.stop()
