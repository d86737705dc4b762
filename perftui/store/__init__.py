"""Ring buffers, the MetricStore, and (later) the recorder and its reader."""

from perftui.store.metric_store import MetricStore
from perftui.store.ring import RingBuffer

__all__ = ["MetricStore", "RingBuffer"]
