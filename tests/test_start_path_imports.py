"""What the dashboard's start path imports, and what waits: each test runs the start (or a piece of
it) in a fresh interpreter and reads `sys.modules` — the modules named here cost the first frame tens
of milliseconds and load only once they are needed."""

from __future__ import annotations

import subprocess
import sys

from tests.loaded_modules import loaded_modules as _loaded_modules

# The live dashboard's pieces, imported and wired as `perftui` does (the script then builds `runner`
# and `app` from them).
_APP_START = (
    "import asyncio, sys\n"
    "from perftui.samplers.factory import SamplerOptions, build_samplers\n"
    "from perftui.samplers.runner import SamplerRunner\n"
    "from perftui.store.metric_store import MetricStore\n"
    "from perftui.ui.app import create_app\n"
    "from perftui.ui.options import AppOptions\n"
    "store = MetricStore()\n"
)


def _spy_first_frame(probe: str) -> str:
    """Script lines that record `probe` (a Python expression) into `seen` when the app first writes
    to the terminal: its first frame."""
    return (
        "seen = []\n"
        "display = app._display\n"
        "def spy(*args, **kwargs):\n"
        "    if not seen:\n"
        f"        seen.append({probe})\n"
        "    return display(*args, **kwargs)\n"
        "app._display = spy\n"
    )


def test_serving_source_loads_only_when_serving_is_asked_for() -> None:
    """The dashboard's start path checks the serving options on every run: without --serve it must not
    pay for prometheus_client's parser and urllib.request (~50 ms before the first frame)."""
    code = (
        "import perftui.cli\n"
        "from perftui.commands.serving_args import serving_checked\n"
        "args = perftui.cli.build_parser([]).parse_args([])\n"
        "ok, serving = serving_checked(args)\n"
        "assert ok and serving is None, (ok, serving)\n"
    )
    mods = _loaded_modules(code)
    assert "perftui.samplers.serving_source" not in mods
    assert "prometheus_client" not in mods
    with_serve = _loaded_modules(
        code.replace("parse_args([])", "parse_args(['--serve', '127.0.0.1:8000'])").replace(
            "serving is None", "serving is not None"
        )
    )
    assert "perftui.samplers.serving_source" in with_serve


def test_the_dashboards_options_check_loads_no_probe_client() -> None:
    """Without --probe, the dashboard's start path must not import the probe (aiohttp and friends)."""
    code = (
        "import perftui.cli\n"
        "from perftui.commands import dashboard\n"
        "args = perftui.cli.build_parser([]).parse_args([])\n"
        "assert dashboard._probe_checked(args) is None\n"
    )
    mods = _loaded_modules(code)
    assert "aiohttp" not in mods and "perftui.probe.client" not in mods
    asked = _loaded_modules(
        code.replace("parse_args([])", "parse_args(['--probe', 'http://127.0.0.1:9/'])").replace(
            "is None", "is not None"
        )
    )
    assert "perftui.probe.client" in asked


def test_the_dashboard_screen_loads_no_diagnosis_module_before_its_tracker() -> None:
    """The diagnosis modules load after the first frame, with the tracker: importing the app and its
    screen (the start path) must not pull them in through a widget (~10 ms of imports)."""
    mods = _loaded_modules("import perftui.ui.app\nimport perftui.ui.screens.dashboard\n")
    assert not [m for m in mods if m.startswith("perftui.diagnosis")]


def test_the_dashboards_first_frame_loads_no_numpy() -> None:
    """The store's rings and the sparklines are plain Python: the first frame (real host samples, the
    live app, its tracker wanted) is written before anything imports numpy (~50 ms); the diagnosis
    tracker, loaded just after it, is what brings numpy in."""
    code = (
        _APP_START
        + (
            "opts = SamplerOptions(interval=1.0, gpu=False, pid=None, serving=None, proctable=True)\n"
            "runner = SamplerRunner(store, build_samplers(opts))\n"
            "runner.sample_once()\n"
            "runner.sample_once()\n"
            "app = create_app(store, runner, AppOptions(interval=1.0, gpu_enabled=False))\n"
        )
        + _spy_first_frame("'numpy' in sys.modules")
        + (
            "async def main():\n"
            "    async with app.run_test(size=(200, 50)) as pilot:\n"
            "        for _ in range(100):\n"
            "            await pilot.pause(0.02)\n"
            "            if app.dashboard.tracker is not None:\n"
            "                return True\n"
            "    return False\n"
            "assert asyncio.run(main()), 'the tracker never loaded'\n"
            "assert seen == [False], seen\n"
        )
    )
    mods = _loaded_modules(code)
    assert "numpy" in mods  # the tracker did load it, after the first frame


def test_the_dashboards_start_path_loads_no_service_panel_or_budget_modules() -> None:
    """Without --serve/--probe, the start (parser, option checks, samplers, the app's modules) loads
    neither the service panels nor the SLO/cost arithmetic nor json: they load with a service."""
    code = (
        "import perftui.cli\n"
        "from perftui.commands import dashboard\n"
        "from perftui.commands.serving_args import serving_checked\n"
        "args = perftui.cli.build_parser([]).parse_args([])\n"
        "assert serving_checked(args) == (True, None)\n"
        "assert dashboard._probe_checked(args) is None\n"
        "from perftui.samplers.factory import SamplerOptions, build_samplers\n"
        "build_samplers(SamplerOptions(interval=1.0, gpu=True, pid=None, serving=None, proctable=True))\n"
        "import perftui.ui.app\n"
    )
    mods = _loaded_modules(code)
    late = {
        "perftui.ui.serving_panel",
        "perftui.ui.probe_panel",
        "perftui.core.slo",
        "perftui.core.cost",
        "json",
    }
    assert not late & mods, late & mods


def test_the_dashboards_first_frame_waits_for_no_process_table_or_psutil() -> None:
    """Started as the perftui command starts it (every sampler built, the runner holding the process
    table back), the first frame is written before psutil (the CPU source reads /proc/stat itself) or
    the process table's modules (its priming pass waits for that frame) are imported: ~30 ms of the
    start on the 2-core VM."""
    code = (
        _APP_START
        + (
            "opts = SamplerOptions(interval=1.0, gpu=True, pid=None, serving=None, proctable=True)\n"
            "runner = SamplerRunner(store, build_samplers(opts), hold_deferred=True)\n"
            "runner.start()\n"
            "app = create_app(store, runner, AppOptions(interval=1.0, gpu_enabled=True))\n"
            "late = ('psutil', 'perftui.samplers.proctable', 'perftui.core.redact')\n"
        )
        + _spy_first_frame("[m for m in late if m in sys.modules]")
        + (
            "async def main():\n"
            "    async with app.run_test(size=(200, 50)) as pilot:\n"
            "        for _ in range(250):\n"
            "            await pilot.pause(0.02)\n"
            "            if store.detail('proctable') is not None:\n"
            "                return True\n"
            "    return False\n"
            "assert asyncio.run(main()), 'the process table never published'\n"
            "runner.stop()\n"
            "assert seen == [[]], seen\n"
        )
    )
    mods = _loaded_modules(code)
    assert "perftui.samplers.proctable" in mods  # released after the first frame, it did run


def test_the_dashboards_start_path_creates_few_dataclasses() -> None:
    """Each dataclass compiles its generated methods when its module loads (~0.6-1.2 ms each on the
    2-core VM, Python 3.11): the start path's value records are NamedTuples (~0.2 ms), and only the
    records that are replaced, copied field by field or mutated stay dataclasses. A new one on the
    start path fails this count: make it a NamedTuple, or load it after the first frame."""
    code = (
        "import dataclasses\n"
        "made = []\n"
        "orig = dataclasses._process_class\n"
        "def counting(cls, *a, **k):\n"
        "    if cls.__module__.startswith('perftui'):\n"
        "        made.append(cls.__module__ + '.' + cls.__qualname__)\n"
        "    return orig(cls, *a, **k)\n"
        "dataclasses._process_class = counting\n"
        "import perftui.cli\n"
        "from perftui.commands import dashboard\n"
        "args = perftui.cli.build_parser([]).parse_args([])\n"
        "from perftui.samplers.factory import SamplerOptions, build_samplers\n"
        "build_samplers(SamplerOptions(interval=1.0, gpu=True, pid=None, serving=None, proctable=True))\n"
        "import perftui.ui.app, perftui.ui.screens.dashboard, perftui.ui.driver\n"
        "print('\\n'.join('made ' + m for m in made))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    made = sorted(ln.split()[1] for ln in out.stdout.splitlines() if ln.startswith("made "))
    assert len(made) <= 11, made
