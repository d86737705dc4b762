"""Exporter cost: one scrape of an 8-GPU box, and the exporter's CPU at a 15 s scrape interval.

1. Scrape: a store filled by the real host samplers and the real GPU sampler over 8 fake H100s
   (GPM tier), then `generate_latest` on the exporter's registry (the whole /metrics body, as the
   HTTP handler renders it), native names and with `--compat dcgm`. Median and P95 of --scrapes.
2. CPU: `perftui exporter --interval 5` in a subprocess, scraped over HTTP every 15 s; CPU % of one
   core = (utime+stime) from /proc/<pid>/stat over the steady part (after --warmup s). Median of
   --runs. The subprocess samples the host only (`--no-gpu`: no driver on a CI VM); the GPU tick's
   own cost is benchmarks/gpu_tick.py's.

3. Fleet rows (`--fleet N`): a real Prometheus (Debian's package) scrapes N dcgm-exporter bodies
   (the fixture, one Hostname each) every 5 s; the data side of the Prometheus-fed fleet view
   (`discover_nodes` + `fetch_rows` every 5 s) is timed with the calling thread's CPU clock.

    .venv/bin/python benchmarks/bench_exporter.py [--scrapes 300] [--duration 60] [--runs 3] [--fleet 100]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import generate_latest

from perftui.diagnosis.tracker import DiagnosisTracker
from perftui.exporter.collector import StoreCollector
from perftui.exporter.live import LiveExporter
from perftui.samplers.gpu import GpuSampler
from perftui.samplers.host import host_samplers
from perftui.store.metric_store import MetricStore
from tests.fakes.fake_nvml import make_fake_nvml

CLK_TCK = os.sysconf("SC_CLK_TCK")


def filled_store() -> MetricStore:
    store = MetricStore(capacity=64)
    fake = make_fake_nvml("8gpu", realtime=False)
    samplers = [*host_samplers(1.0), GpuSampler(1.0, fake, clock=fake.now)]  # type: ignore[arg-type]
    for _ in range(3):
        for s in samplers:
            store.set_status(s.name, s.availability())
            if store.status(s.name) is not None and store.status(s.name).available:  # type: ignore[union-attr]
                store.append(time.time(), s.sample(), source=s.name)
                for k, v in s.details().items():
                    store.set_detail(k, v)
        fake.advance()
        time.sleep(0.05)
    for s in samplers:
        s.close()
    return store


def bench_scrape(scrapes: int) -> None:
    store = filled_store()
    diag = DiagnosisTracker().update(store, 10.0)
    for compat in (False, True):
        collector = StoreCollector(store, host="bench", compat_dcgm=compat, diagnosis=lambda: diag)
        registry = LiveExporter.registry_for(collector)
        body = generate_latest(registry)
        times = []
        for _ in range(scrapes):
            t0 = time.perf_counter()
            generate_latest(registry)
            times.append(time.perf_counter() - t0)
        times.sort()
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        print(
            f"scrape 8 GPUs{' --compat dcgm' if compat else ''}: {series} series, "
            f"{len(body) / 1024:.1f} KiB, median {statistics.median(times) * 1e3:.2f} ms, "
            f"p95 {times[int(0.95 * len(times))] * 1e3:.2f} ms (budget 5 ms)"
        )


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def one_cpu_run(duration: float, warmup: float, interval: float, scrape_every: float) -> float:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "perftui", "exporter", "--no-gpu"),
            *("--listen", "127.0.0.1:0", "--interval", str(interval)),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        m = re.search(r"(http://\S+/metrics)", proc.stderr.readline())
        assert m, "the exporter did not start"
        url = m.group(1)
        time.sleep(warmup)
        t0, c0 = time.monotonic(), _cpu_ticks(proc.pid)
        next_scrape = t0
        while time.monotonic() - t0 < duration:
            if time.monotonic() >= next_scrape:
                with urllib.request.urlopen(url, timeout=5) as r:
                    r.read()
                next_scrape += scrape_every
            time.sleep(0.2)
        t1, c1 = time.monotonic(), _cpu_ticks(proc.pid)
        return 100.0 * (c1 - c0) / CLK_TCK / (t1 - t0)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scrapes", type=int, default=300)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds measured per CPU run")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--interval", type=float, default=5.0, help="sampling interval")
    ap.add_argument("--scrape-interval", type=float, default=15.0)
    ap.add_argument("--skip-cpu", action="store_true")
    ap.add_argument("--fleet", type=int, default=0, metavar="N", help="also time the fleet rows for N nodes")
    a = ap.parse_args()
    bench_scrape(a.scrapes)
    if a.fleet:
        from bench_fleet_rows import bench_fleet_rows  # beside this file

        bench_fleet_rows(a.fleet, refreshes=6, every=5.0)
    if not a.skip_cpu:
        runs = [one_cpu_run(a.duration, a.warmup, a.interval, a.scrape_interval) for _ in range(a.runs)]
        shown = ", ".join(f"{r:.3f}" for r in runs)
        print(
            f"exporter CPU, sampling every {a.interval:g} s, scraped every {a.scrape_interval:g} s: "
            f"median {statistics.median(runs):.3f} % of a core over {a.duration:g} s ({shown}) (budget 0.5 %)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
