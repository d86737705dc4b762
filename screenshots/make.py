"""Regenerate the README screenshots from the real dashboard app.

GPU panels come from the real GpuSampler over the fake NVML (tests/fakes/fake_nvml.py: no GPU
driver, one H100, eight H100s); host panels from the deterministic host values the UI tests use
(tests/ui/fakes.py), so the pictures do not depend on the machine that makes them. Each store is
filled with 90 one-second ticks, then the app is rendered at 200×50 and saved as SVG.
`dashboard-h100-real` is the replay of a real recording made on an H100 (a bf16 matmul attached with
--pid; tests/fixtures/gpu_h100/matmul_bf16.sqlite), at its end.

    .venv/bin/python screenshots/make.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perftui.core.types import SourceStatus  # noqa: E402
from perftui.samplers.gpu import GpuSampler  # noqa: E402
from perftui.samplers.runner import SamplerRunner  # noqa: E402
from perftui.store.metric_store import MetricStore  # noqa: E402
from perftui.ui.app import PerftuiApp, create_app  # noqa: E402
from perftui.ui.options import AppOptions, TestKnobs  # noqa: E402
from tests.fakes.fake_nvml import make_fake_nvml  # noqa: E402
from tests.ui.fakes import HOSTNAME, NO_MEMBW, T0, FakeClock, host_values  # noqa: E402

SHOTS = (
    ("dashboard-no-gpu", "nodriver", "perftui-dark", (200, 50)),
    ("dashboard-1-gpu", "h100", "perftui-dark", (200, 50)),
    ("dashboard-8-gpus", "8gpu", "perftui-dark", (200, 50)),
    ("dashboard-8-gpus-light", "8gpu", "perftui-light", (200, 50)),
    ("dashboard-1-gpu-80x24", "h100", "perftui-dark", (80, 24)),
)


def build_store(scenario: str, ticks: int = 90) -> tuple[MetricStore, float]:
    fake = make_fake_nvml(scenario, realtime=False, pid=4242)
    gpu = GpuSampler(1.0, fake, clock=fake.now)  # type: ignore[arg-type]
    store = MetricStore()
    runner = SamplerRunner(store, [gpu], clock=lambda: T0 + fake.now())
    for i in range(ticks):
        ts = T0 + fake.now()
        for source, vals in host_values(i).items():
            store.append(ts, vals, source=source)
        runner.sample_once()
        fake.advance()
    for src in ("cpu", "memory", "psi", "disk", "net"):
        store.set_status(src, SourceStatus.ok())
    store.set_status("membw", SourceStatus.unavailable(NO_MEMBW))
    store.set_detail("cpu.model", "AMD EPYC 9654 96-Core Processor")
    return store, store.last_ts or T0


async def shoot(name: str, scenario: str, theme: str, size: tuple[int, int], out: Path) -> Path:
    store, end = build_store(scenario)
    app = create_app(
        store,
        None,
        AppOptions(hostname=HOSTNAME, theme=theme),
        TestKnobs(clock=FakeClock(end + 0.5), live_timer=False),
    )
    return await save(app, name, size, out)


async def save(app: PerftuiApp, name: str, size: tuple[int, int], out: Path) -> Path:
    """Render `app` at `size` once the view is filled, and write `out/name.svg`."""
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.dashboard.refresh_view()
        await pilot.pause()
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


REAL = (("dashboard-h100-real", ROOT / "tests/fixtures/gpu_h100/matmul_bf16.sqlite", (200, 50)),)


async def shoot_replay(name: str, recording: Path, size: tuple[int, int], out: Path) -> Path:
    from perftui.store.reader import open_recording
    from perftui.ui.app import create_replay_app
    from perftui.ui.replay import ReplayDriver

    driver = ReplayDriver(open_recording(recording))
    driver.seek(driver.end)
    return await save(
        create_replay_app(driver, AppOptions(theme="perftui-dark"), TestKnobs(live_timer=False)),
        name,
        size,
        out,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, scenario, theme, size in SHOTS:
        path = asyncio.run(shoot(name, scenario, theme, size, args.out))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    for name, recording, size in REAL:
        path = asyncio.run(shoot_replay(name, recording, size, args.out))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
