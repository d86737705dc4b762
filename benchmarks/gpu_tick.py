"""Cost of one full GPU tick over 8 fake H100s (GPM tier, processes, NVLink, XID polling).

Run: .venv/bin/python benchmarks/gpu_tick.py [--runs 7] [--ticks 300] [--gpus 8]

Per run, the mean over --ticks ticks of (thread CPU time, immune to other load on the box):
- `tick total`: GpuSampler.sample() + details();
- `inside fake NVML`: the time spent in the fake's functions (the wrapper's timed mode);
- `perftui own`: tick total (timed run) minus the time inside NVML — perftui's own Python cost,
  the figure with a target of < 2 ms per tick for 8 GPUs;
- reference, same run: a bare loop making the same kinds of NVML calls on the same fake with no
  wrapper and no processing (what a minimal pynvml script pays for the fake itself).
Medians over --runs runs are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from perftui.samplers.gpu import GpuSampler
from tests.fakes.fake_nvml import FakeNvml, FakeProcess, GpuSpec, Scenario


def make_fake(n: int) -> FakeNvml:
    gpus = [GpuSpec(processes=[FakeProcess(pid=1000 + i), FakeProcess(pid=2000 + i)]) for i in range(n)]
    return FakeNvml(Scenario("bench", gpus), tick_seconds=1.0)


def run_sampler(n: int, ticks: int, timed: bool) -> tuple[float, float, int]:
    fake = make_fake(n)
    s = GpuSampler(1.0, fake, clock=fake.now, timed=timed)
    s.nv.timer = time.thread_time
    assert s.availability().available
    for _ in range(3):  # warm: rates, GPM pairs, remembered NOT_SUPPORTED
        s.sample()
        s.details()
        fake.advance()
    inside0 = sum(s.nv.seconds.values())
    calls0 = sum(s.nv.calls.values())
    total = 0.0
    for _ in range(ticks):
        t0 = time.thread_time()
        s.sample()
        s.details()
        total += time.thread_time() - t0
        fake.advance()
    inside = sum(s.nv.seconds.values()) - inside0
    calls = sum(s.nv.calls.values()) - calls0
    s.close()
    return total / ticks, inside / ticks, calls // ticks


def run_reference(n: int, ticks: int) -> float:
    """The same NVML calls, straight on the fake: no wrapper, no rates, no details."""
    fake = make_fake(n)
    fake.nvmlInit()
    hs = [fake.nvmlDeviceGetHandleByIndex(i) for i in range(n)]
    fields = [(197, 0), (198, 0), (3, 0), (4, 0), (138, 0xFFFFFFFF), (139, 0xFFFFFFFF)]
    samples = [[fake.nvmlGpmSampleAlloc(), fake.nvmlGpmSampleAlloc()] for _ in hs]
    es = fake.nvmlEventSetCreate()
    mg: list[Any] = []
    for _ in hs:
        m = fake.c_nvmlGpmMetricsGet_t()
        m.version, m.numMetrics = 1, 11
        for j, mid in enumerate((2, 3, 5, 10, 13, 12, 11, 20, 21, 61, 60)):
            m.metrics[j].metricId = mid
        mg.append(m)

    def tick(k: int) -> None:
        with contextlib.suppress(fake.NVMLError):
            fake.nvmlEventSetWait_v2(es, 0)
        for i, h in enumerate(hs):
            fake.nvmlDeviceGetUtilizationRates(h)
            fake.nvmlDeviceGetMemoryInfo(h)
            fake.nvmlDeviceGetClockInfo(h, 1)
            fake.nvmlDeviceGetClockInfo(h, 2)
            fake.nvmlDeviceGetCurrentClocksEventReasons(h)
            fake.nvmlDeviceGetPowerUsage(h)
            fake.nvmlDeviceGetEnforcedPowerLimit(h)
            fake.nvmlDeviceGetTotalEnergyConsumption(h)
            fake.nvmlDeviceGetTemperatureV(h, 0)
            fake.nvmlDeviceGetFanSpeed(h)
            fake.nvmlDeviceGetFieldValues(h, fields)
            fake.nvmlDeviceGetComputeRunningProcesses(h)
            fake.nvmlDeviceGetGraphicsRunningProcesses(h)
            with contextlib.suppress(fake.NVMLError):
                fake.nvmlDeviceGetProcessUtilization(h, 0)
            cur, prev = samples[i][k % 2], samples[i][1 - k % 2]
            fake.nvmlGpmSampleGet(h, cur)
            if k:
                mg[i].sample1, mg[i].sample2 = prev, cur
                fake.nvmlGpmMetricsGet(mg[i])

    tick(0)
    fake.advance()
    t0 = time.thread_time()
    for k in range(1, ticks + 1):
        tick(k)
        fake.advance()
    return (time.thread_time() - t0) / ticks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--ticks", type=int, default=300)
    ap.add_argument("--gpus", type=int, default=8)
    args = ap.parse_args()

    total, own, inside, ref = [], [], [], []
    calls = 0
    for _ in range(args.runs):
        t_untimed, _, _ = run_sampler(args.gpus, args.ticks, timed=False)
        t_timed, t_inside, calls = run_sampler(args.gpus, args.ticks, timed=True)
        total.append(t_untimed)
        inside.append(t_inside)
        own.append(t_timed - t_inside)
        ref.append(run_reference(args.gpus, args.ticks))
    med = statistics.median
    print(f"GPU tick over {args.gpus} fake GPUs, {calls} NVML calls per tick, median of {args.runs} runs")
    print(f"  tick total (sample + details)   {med(total) * 1e3:8.3f} ms")
    print(f"  inside fake NVML                {med(inside) * 1e3:8.3f} ms")
    print(f"  perftui own (target < 2 ms)     {med(own) * 1e3:8.3f} ms")
    print(f"  reference: bare calls on fake   {med(ref) * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
