from __future__ import annotations

from perftui.store.metric_store import MetricStore
from perftui.ui.app import PerftuiApp, create_app
from perftui.ui.options import AppOptions, TestKnobs
from tests.ui.fakes import HOSTNAME, FakeClock, fill_store

OPTION_NAMES = {"interval", "window", "theme", "themes", "gpu_enabled", "hostname", "config_file"}


def make_app(
    n_gpus: int = 1, *, seconds: int = 90, **kwargs: object
) -> tuple[PerftuiApp, MetricStore, FakeClock]:
    """A deterministic app: kwargs named in AppOptions go there, the rest are TestKnobs."""
    store = MetricStore()
    end = fill_store(store, n_gpus, seconds=seconds)
    clock = FakeClock(end + 0.5)
    opts: dict[str, object] = {"hostname": HOSTNAME, "theme": "perftui-dark"}
    knobs: dict[str, object] = {"clock": clock, "live_timer": False, "use_tracker": False}
    for name, value in kwargs.items():
        (opts if name in OPTION_NAMES else knobs)[name] = value
    app = create_app(store, None, AppOptions(**opts), TestKnobs(**knobs))  # type: ignore[arg-type]
    return app, store, clock
