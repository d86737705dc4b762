from __future__ import annotations

from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp, create_app
from tests.ui.fakes import HOSTNAME, FakeClock, fill_store


def make_app(
    n_gpus: int = 1, *, seconds: int = 90, **kwargs: object
) -> tuple[PerftuiApp, MetricStore, FakeClock]:
    store = MetricStore()
    end = fill_store(store, n_gpus, seconds=seconds)
    clock = FakeClock(end + 0.5)
    opts: dict[str, object] = {
        "hostname": HOSTNAME,
        "clock": clock,
        "live_timer": False,
        "use_tracker": False,
        "theme": "perftui-dark",
    }
    opts.update(kwargs)
    return create_app(store, **opts), store, clock  # type: ignore[arg-type]
