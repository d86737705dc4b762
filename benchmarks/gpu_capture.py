"""One prepared run on a real NVIDIA GPU (e.g. an H100): everything perftui needs to learn from it.

Run (one call, < 8 min):  .venv/bin/python benchmarks/gpu_capture.py [--out DIR] [--seconds 20]
Output goes to --out, else $OUT, else ./gpu_capture_out:

- pytest_gpu.txt        the gpu-marked tests (tests/gpu, real pynvml)
- snapshot.json         `perftui snapshot --json`
- nvml_calls.json       per NVML call the sampler makes: count, mean µs, errors; tick cost (median, p95)
- gpm_probe.json        every NVML_GPM_METRIC_* id in this nvidia-ml-py: supported or its error, value
- rec/<label>.sqlite    `perftui record --pid` of a labelled torch workload (when torch imports):
                        matmul_bf16, d2d_copy, tiny_kernels, h2d_pageable, idle_10gib, starved_loader
                        (a GPU step waiting on two DataLoader workers doing Python preprocessing)
- smi/<label>.csv       nvidia-smi's own readings during the same workload, to cross-check perftui's
- snapshot.txt, nvidia_smi_q.txt   the human snapshot and `nvidia-smi -q`
- capture.json          summary: versions, GPUs, tiers, what ran, what failed, elapsed

`--fake SCENARIO` runs the same steps against tests/fakes/fake_nvml.py (a dry run on any machine;
workloads and pytest are skipped). The module imports nothing GPU-related at import time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("matmul_bf16", "d2d_copy", "tiny_kernels", "h2d_pageable", "idle_10gib", "starved_loader")
DEADLINE_S = 7.5 * 60


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--out", type=Path, default=None, help="output dir (default: $OUT, else ./gpu_capture_out)"
    )
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per workload (default 20)")
    ap.add_argument("--interval", type=float, default=0.25, help="sampling interval during workloads")
    ap.add_argument("--ticks", type=int, default=40, help="sampler ticks for the per-call timing")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of workloads")
    ap.add_argument("--no-pytest", action="store_true", help="skip the gpu-marked tests")
    ap.add_argument("--no-workloads", action="store_true", help="skip the torch workloads")
    ap.add_argument("--extras", action="store_true", help="also: NVML call costs, raw PCIe counters, profile")
    ap.add_argument("--fake", metavar="SCENARIO", default=None, help="dry run on a fake NVML scenario")
    ap.add_argument("--workload", default=None, help=argparse.SUPPRESS)  # child mode: run one workload
    args = ap.parse_args(argv)
    unknown = [w for w in args.workloads.split(",") if w and w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    if not 0 < args.seconds <= 120 or not 0.05 <= args.interval <= 5:
        ap.error("--seconds must be in (0, 120] and --interval in [0.05, 5]")
    return args


def out_dir(arg: Path | None, env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    if arg is not None:
        return arg
    if env.get("OUT"):
        return Path(env["OUT"])
    return Path("gpu_capture_out")


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    tmp.replace(path)


def load_nvml(fake: str | None) -> Any:
    if fake is None:
        return None
    sys.path.insert(0, str(ROOT))
    from tests.fakes.fake_nvml import make_fake_nvml

    return make_fake_nvml(fake, realtime=True, tick_seconds=0.1)


# -- steps -----------------------------------------------------------------------
def step_pytest(out: Path) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "gpu", "-v", "-rs", "tests/gpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    (out / "pytest_gpu.txt").write_text(r.stdout + "\n--- stderr ---\n" + r.stderr)
    tail = r.stdout.strip().splitlines()[-1:] or [""]
    return {"returncode": r.returncode, "summary": tail[0]}


def step_snapshot(out: Path) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, "-m", "perftui", "snapshot", "--json", "--duration", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (out / "snapshot.json").write_text(r.stdout or "{}")
    text = subprocess.run(
        [sys.executable, "-m", "perftui", "snapshot", "--duration", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (out / "snapshot.txt").write_text(text.stdout + text.stderr)
    try:
        smi = subprocess.run(["nvidia-smi", "-q"], capture_output=True, text=True, timeout=60)
        (out / "nvidia_smi_q.txt").write_text(smi.stdout + smi.stderr)
    except (OSError, subprocess.TimeoutExpired) as exc:
        (out / "nvidia_smi_q.txt").write_text(f"nvidia-smi -q failed: {exc}")
    return {"returncode": r.returncode, "text_rc": text.returncode, "stderr": r.stderr[-2000:]}


def step_call_timing(out: Path, nvml: Any, ticks: int) -> dict[str, Any]:
    from perftui.samplers.gpu import GpuSampler

    s = GpuSampler(0.1, nvml, timed=True)
    status = s.availability()
    if not status.available:
        write_json(out / "nvml_calls.json", {"available": False, "reason": status.reason})
        return {"available": False, "reason": status.reason}
    tick_s: list[float] = []
    try:
        for _ in range(ticks):
            t0 = time.perf_counter()
            s.sample()
            s.details()
            tick_s.append(time.perf_counter() - t0)
            time.sleep(0.1)
        calls = s.nv.calls_by_name()
        per_call = {
            name: {
                "calls": n,
                "mean_us": round(1e6 * s.nv.seconds.get(name, 0.0) / n, 2),
                "errors": sum(e for (i, nm), e in s.nv.errors.items() if nm == name),
            }
            for name, n in sorted(calls.items())
        }
        inside = sum(s.nv.seconds.values()) / max(1, len(tick_s))
        details = dict(s.details())
        result = {
            "available": True,
            "gpus": details.get("gpu.count"),
            "ticks": len(tick_s),
            "tick_ms_median": round(1e3 * statistics.median(tick_s), 3),
            "tick_ms_p95": round(1e3 * sorted(tick_s)[int(0.95 * (len(tick_s) - 1))], 3),
            "inside_nvml_ms_per_tick": round(1e3 * inside, 3),
            "perftui_own_ms_per_tick": round(1e3 * (statistics.mean(tick_s) - inside), 3),
            "calls": per_call,
            "unsupported": sorted(
                {f"gpu{i} {name}: {why}" for (i, name, _), why in s.nv.unsupported.items()}
            ),
            "lost": {str(k): v for k, v in s.nv.lost.items()},
            "tiers": {
                k: v for k, v in details.items() if k.endswith((".tier", ".tier_reason", ".gpm_metrics"))
            },
        }
    finally:
        s.close()
    write_json(out / "nvml_calls.json", result)
    return {k: v for k, v in result.items() if k not in ("calls", "unsupported")}


def step_gpm_probe(out: Path, nvml: Any) -> dict[str, Any]:
    """Ask every GPM metric id this binding knows, on GPU 0, in chunks."""
    from perftui.samplers.nvml import Nvml

    nv = Nvml(nvml)
    if not nv.init().available:
        return {"available": False}
    mod = nv.mod
    ids = sorted(
        (int(v), n)
        for n, v in vars(mod).items()
        if n.startswith("NVML_GPM_METRIC_") and n != "NVML_GPM_METRIC_MAX" and isinstance(v, int)
    )
    result: dict[str, Any] = {"ids": len(ids), "metrics": {}}
    support = nv.dev(0, "nvmlGpmQueryDeviceSupport")
    result["isSupportedDevice"] = getattr(support, "isSupportedDevice", None)
    if not result["isSupportedDevice"]:
        nv.shutdown()
        write_json(out / "gpm_probe.json", result)
        return {"supported": False}
    s1, s2 = nv.call(-1, "nvmlGpmSampleAlloc"), nv.call(-1, "nvmlGpmSampleAlloc")
    try:
        nv.dev(0, "nvmlGpmSampleGet", s1)
        time.sleep(0.2)
        nv.dev(0, "nvmlGpmSampleGet", s2)
        for start in range(0, len(ids), 32):
            chunk = ids[start : start + 32]
            result["metrics"].update(_gpm_chunk(mod, s1, s2, chunk))
    finally:
        for s in (s1, s2):
            if s is not None:
                nv.call(-1, "nvmlGpmSampleFree", s)
        nv.shutdown()
    ok = sorted(n for n, e in result["metrics"].items() if e.get("ret") == 0)
    result["supported"] = ok
    write_json(out / "gpm_probe.json", result)
    return {"supported_count": len(ok), "probed": len(ids)}


def _gpm_chunk(mod: Any, s1: Any, s2: Any, chunk: list[tuple[int, str]]) -> dict[str, Any]:
    """One nvmlGpmMetricsGet over `chunk`; if the whole call fails, each id on its own."""
    mg = mod.c_nvmlGpmMetricsGet_t()
    mg.version = mod.NVML_GPM_METRICS_GET_VERSION
    mg.numMetrics = len(chunk)
    mg.sample1, mg.sample2 = s1, s2
    for i, (mid, _) in enumerate(chunk):
        mg.metrics[i].metricId = mid
    try:
        mod.nvmlGpmMetricsGet(mg)
    except Exception as exc:
        if len(chunk) > 1:
            out: dict[str, Any] = {}
            for one in chunk:
                out.update(_gpm_chunk(mod, s1, s2, [one]))
            return out
        return {chunk[0][1]: {"id": chunk[0][0], "error": f"call failed: {exc}"}}
    out = {}
    for i, (mid, name) in enumerate(chunk):
        m = mg.metrics[i]
        entry: dict[str, Any] = {"id": mid, "ret": int(m.nvmlReturn)}
        if int(m.nvmlReturn) == 0:
            entry["value"] = float(m.value)
        out[name] = entry
    return out


def scrub_paths(db: Path, prefixes: list[str]) -> int:
    """Drop this machine's directories from a recording's text (fixtures carry no machine paths)."""
    import sqlite3

    columns = {
        "meta": ["value"],
        "details": ["value"],
        "status": ["reason"],
        "timeline": ["title", "evidence"],
    }
    conn = sqlite3.connect(db)
    changed = 0
    try:
        for table, cols in columns.items():
            for col in cols:
                for prefix in prefixes:
                    cur = conn.execute(f"UPDATE {table} SET {col} = replace({col}, ?, '')", (prefix,))
                    changed += cur.rowcount
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    return changed


def _wait_ready(child: subprocess.Popen[str], timeout: float) -> str:
    """Lines the workload printed before its 'ready' line (torch import, allocation, warm-up)."""
    import selectors

    sel = selectors.DefaultSelector()
    assert child.stdout is not None
    sel.register(child.stdout, selectors.EVENT_READ)
    seen: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and child.poll() is None:
        if sel.select(timeout=0.5):
            line = child.stdout.readline()
            if line.strip() == "ready":
                return "".join(seen)
            seen.append(line)
    raise RuntimeError(
        f"workload not ready after {timeout:.0f} s (rc {child.poll()}): {''.join(seen)[-500:]}"
    )


def _smi_logger(path: Path, period_ms: int) -> subprocess.Popen[bytes] | None:
    """nvidia-smi's own view, as a cross-check of perftui's numbers (None without nvidia-smi)."""
    import shutil

    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = (
        "timestamp,index,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,"
        "clocks.sm,clocks.mem,temperature.gpu,pcie.link.gen.current,pcie.link.width.current,"
        "clocks_event_reasons.active"
    )
    with path.open("wb") as fh:
        return subprocess.Popen(
            [smi, f"--query-gpu={fields}", "--format=csv,nounits", f"-lms={period_ms}"],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def _start_workload(label: str, seconds: float) -> tuple[subprocess.Popen[str], str]:
    """A labelled workload in a child, once it says it is ready; what it printed before that."""
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--workload", label, "--seconds", str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        return child, _wait_ready(child, 90.0)
    except Exception:
        child.kill()
        child.communicate()
        raise


def step_workload(out: Path, label: str, seconds: float, interval: float) -> dict[str, Any]:
    """Run one labelled workload and `perftui record --pid` it: the recording is the fixture."""
    child, setup = _start_workload(label, seconds + 2)
    rec = out / "rec" / f"{label}.sqlite"
    rec.parent.mkdir(parents=True, exist_ok=True)
    smi = None
    try:
        smi = _smi_logger(out / "smi" / f"{label}.csv", int(interval * 1000))
        cmd = [sys.executable, "-m", "perftui", "record", "-o", str(rec), "--force"]
        cmd += ["--interval", str(interval), "--duration", str(seconds), "--pid", str(child.pid)]
        t0 = time.monotonic()
        recorder = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(recorder.pid, 0)
        wall = time.monotonic() - t0
        rec_out = recorder.stdout.read().decode(errors="replace") if recorder.stdout else ""
        recorder.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if smi is not None:
            smi.terminate()
            smi.wait(timeout=10)
        try:
            stdout, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            stdout, stderr = child.communicate()
    if rec.exists():
        scrub_paths(rec, [str(rec.parent) + "/", str(ROOT) + "/"])
    return {
        "workload_rc": child.returncode,
        "workload": (stdout.strip()[-400:]),
        "workload_setup": setup.strip()[-300:],
        "workload_stderr": stderr.strip()[-600:],
        "record_rc": recorder.returncode,
        "record_output": rec_out.strip()[-600:],
        "record_cpu_pct": round(100 * (usage.ru_utime + usage.ru_stime) / wall, 2),
        "record_maxrss_mb": round(usage.ru_maxrss / 1024, 1),
        "recording_bytes": rec.stat().st_size if rec.exists() else 0,
    }


def step_call_costs(out: Path, seconds: float) -> dict[str, Any]:
    """Wall and CPU time of the slow NVML calls, and raw PCIe counters at 20 Hz, during pageable
    host->device copies (is the counter 32-bit? how much does each call cost the caller's CPU?)."""
    import pynvml

    child, _ = _start_workload("h2d_pageable", seconds)
    pynvml.nvmlInit()
    result: dict[str, Any] = {}
    try:
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        fid_rx, fid_tx = pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES, pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES
        rx_counter, v2 = pynvml.NVML_PCIE_UTIL_RX_BYTES, pynvml.nvmlMemory_v2
        calls: dict[str, Any] = {
            "energy": lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(h),
            "process_util": lambda: pynvml.nvmlDeviceGetProcessUtilization(h, 0),
            "field_pcie_counters": lambda: pynvml.nvmlDeviceGetFieldValues(h, [fid_rx, fid_tx]),
            "pcie_throughput_rx": lambda: pynvml.nvmlDeviceGetPcieThroughput(h, rx_counter),
            "memory_v1": lambda: pynvml.nvmlDeviceGetMemoryInfo(h),
            "memory_v2": lambda: pynvml.nvmlDeviceGetMemoryInfo(h, pynvml.nvmlMemory_v2),
            "power": lambda: pynvml.nvmlDeviceGetPowerUsage(h),
            "utilization": lambda: pynvml.nvmlDeviceGetUtilizationRates(h),
        }
        costs: dict[str, Any] = {}
        for name, fn in calls.items():
            wall, cpu, err = [], [], None
            for _ in range(20):
                w0, c0 = time.perf_counter(), time.thread_time()
                try:
                    fn()
                except Exception as exc:
                    err = f"{type(exc).__name__}: {exc}"
                wall.append(time.perf_counter() - w0)
                cpu.append(time.thread_time() - c0)
            costs[name] = {
                "wall_us_median": round(1e6 * statistics.median(wall), 1),
                "cpu_us_median": round(1e6 * statistics.median(cpu), 1),
                "error": err,
            }
        result["costs"] = costs
        raw = []
        for _ in range(60):
            fvs = pynvml.nvmlDeviceGetFieldValues(h, [fid_rx, fid_tx])
            raw.append(
                {
                    "t": time.time(),
                    "rx": [int(fvs[0].nvmlReturn), int(fvs[0].value.ullVal), int(fvs[0].timestamp)],
                    "tx": [int(fvs[1].nvmlReturn), int(fvs[1].value.ullVal), int(fvs[1].timestamp)],
                    "valueType": int(fvs[0].valueType),
                }
            )
            time.sleep(0.05)
        result["pcie_raw"] = raw
        mem1, mem2 = pynvml.nvmlDeviceGetMemoryInfo(h), pynvml.nvmlDeviceGetMemoryInfo(h, v2)
        result["memory"] = {
            "v1": {"total": mem1.total, "used": mem1.used, "free": mem1.free},
            "v2": {"total": mem2.total, "used": mem2.used, "free": mem2.free, "reserved": mem2.reserved},
        }
        for name, fn in (
            ("default_limit_mw", lambda: pynvml.nvmlDeviceGetPowerManagementDefaultLimit(h)),
            ("enforced_limit_mw", lambda: pynvml.nvmlDeviceGetEnforcedPowerLimit(h)),
        ):
            try:
                result[name] = fn()
            except Exception as exc:
                result[name] = f"{type(exc).__name__}: {exc}"
    finally:
        pynvml.nvmlShutdown()
        child.kill()
        child.communicate()
    write_json(out / "call_costs.json", result)
    return {"costs": result.get("costs"), "memory": result.get("memory")}


def step_profile_record(out: Path, seconds: float, interval: float) -> dict[str, Any]:
    """py-spy's view of `perftui record --pid` (every thread) on the matmul workload: where perftui's
    own CPU goes. Collapsed stacks, active samples only, in record_pyspy.txt."""
    import shutil

    pyspy = shutil.which("py-spy")
    if pyspy is None:
        return {"skipped": "no py-spy on PATH"}
    child, _ = _start_workload("matmul_bf16", seconds + 4)
    rec = out / "profiled.sqlite"
    try:
        cmd = [sys.executable, "-m", "perftui", "record", "-o", str(rec), "--force"]
        cmd += ["--interval", str(interval), "--duration", str(seconds + 2), "--pid", str(child.pid)]
        t0 = time.monotonic()
        r = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        time.sleep(1.5)  # past the imports
        spy_cmd = [pyspy, "record", "--pid", str(r.pid), "--format", "raw", "--rate", "200", "--nonblocking"]
        spy_cmd += ["--duration", str(int(seconds - 1)), "--output", str(out / "record_pyspy.txt")]
        spy = subprocess.run(
            spy_cmd,
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
        _, _, usage = os.wait4(r.pid, 0)
        wall = time.monotonic() - t0
    finally:
        child.kill()
        child.communicate()
    rec.unlink(missing_ok=True)
    return {
        "record_cpu_pct": round(100 * (usage.ru_utime + usage.ru_stime) / wall, 1),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "pyspy_rc": spy.returncode,
        "pyspy_err": spy.stderr[-400:],
    }


def _thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread (name:tid) of a process, from /proc (native threads included)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[f"{name}:{task.name}"] = (int(fields[11]) + int(fields[12])) / tick
    return out


def step_thread_cpu(out: Path, seconds: float, interval: float) -> dict[str, Any]:
    """Which threads of `perftui record --pid` use the CPU in steady state (after start-up), with
    and without GPU sampling: native threads (NVML's, CUDA's) are invisible to py-spy."""
    child, _ = _start_workload("matmul_bf16", 3 * seconds + 10)
    result: dict[str, Any] = {}
    try:
        for variant, extra in (("gpu", []), ("no_gpu", ["--no-gpu"]), ("gpu_no_pid", None)):
            cmd = [sys.executable, "-m", "perftui", "record", "-o", str(out / "t.sqlite"), "--force"]
            cmd += ["--interval", str(interval), "--duration", str(seconds + 4)]
            cmd += ["--pid", str(child.pid), *extra] if extra is not None else []
            r = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            time.sleep(3.0)
            a, t0 = _thread_cpu(r.pid), time.monotonic()
            time.sleep(seconds)
            b, dt = _thread_cpu(r.pid), time.monotonic() - t0
            r.wait(timeout=60)
            per = {k: round(100 * (b[k] - a.get(k, 0.0)) / dt, 2) for k in b}
            result[variant] = {
                "steady_cpu_pct": round(sum(per.values()), 2),
                "threads": dict(sorted(per.items(), key=lambda kv: -kv[1])[:12]),
            }
    finally:
        child.kill()
        child.communicate()
        (out / "t.sqlite").unlink(missing_ok=True)
    write_json(out / "thread_cpu.json", result)
    return result


def run_workload(label: str, seconds: float) -> int:
    """Child mode: one labelled torch workload; prints 'ready' once set up, then runs `seconds`."""
    import torch  # type: ignore[import-not-found,unused-ignore]

    if not torch.cuda.is_available():
        print("torch sees no CUDA device", flush=True)
        return 3
    dev = torch.device("cuda")
    n = 0

    def ready() -> float:
        torch.cuda.synchronize()
        print("ready", flush=True)
        return time.monotonic() + seconds

    if label == "matmul_bf16":
        a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
        b = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
        torch.matmul(a, b)
        end = ready()
        while time.monotonic() < end:
            for _ in range(10):
                torch.matmul(a, b)
            torch.cuda.synchronize()
            n += 10
        print(f"matmul 8192^3 bf16 x{n}: {2 * 8192**3 * n / seconds / 1e12:.0f} TFLOP/s")
    elif label == "d2d_copy":
        x = torch.empty(2 << 30, dtype=torch.uint8, device=dev)
        y = torch.empty_like(x)
        y.copy_(x)
        end = ready()
        while time.monotonic() < end:
            y.copy_(x)
            torch.cuda.synchronize()
            n += 1
        print(f"D2D copy 2 GiB x{n}: {2 * (2 << 30) * n / seconds / 1e9:.0f} GB/s read+write")
    elif label == "tiny_kernels":
        x = torch.zeros(1, device=dev)
        x.add_(1)
        end = ready()
        while time.monotonic() < end:
            for _ in range(1000):
                x.add_(1)
            torch.cuda.synchronize()
            n += 1000
        print(f"tiny kernels: {n / seconds:.0f} launches/s")
    elif label == "h2d_pageable":
        host = torch.empty(512 << 20, dtype=torch.uint8)  # pageable, not pinned
        host.fill_(1)
        d = torch.empty(512 << 20, dtype=torch.uint8, device=dev)
        d.copy_(host)
        end = ready()
        while time.monotonic() < end:
            d.copy_(host)
            torch.cuda.synchronize()
            n += 1
        print(f"pageable H2D 512 MiB x{n}: {(512 << 20) * n / seconds / 1e9:.1f} GB/s")
    elif label == "idle_10gib":
        held = torch.empty(10 << 30, dtype=torch.uint8, device=dev)
        end = ready()
        time.sleep(max(0.0, end - time.monotonic()))
        print(f"held {held.numel() >> 30} GiB idle")
    elif label == "starved_loader":
        n = _starved_loader(torch, dev, ready)
        print(f"starved loader: {n / seconds:.1f} steps/s")
    else:
        print(f"unknown workload {label}")
        return 2
    return 0


class _SlowItems:
    """A map-style dataset whose items cost ~10 ms of pure-Python CPU each (a slow decode/augment)."""

    def __len__(self) -> int:
        return 1 << 30

    def __getitem__(self, i: int) -> Any:
        import torch  # type: ignore[import-not-found,unused-ignore]

        acc = 0
        for k in range(150_000):
            acc += k * k
        return torch.full((256, 256), float(acc % 7))


def _starved_loader(torch: Any, dev: Any, ready: Any) -> int:
    """A training-like loop whose GPU waits on two DataLoader workers doing Python preprocessing."""
    loader = torch.utils.data.DataLoader(_SlowItems(), batch_size=8, num_workers=2)
    w = torch.randn(256, 4096, device=dev)
    it = iter(loader)
    next(it)
    end = ready()
    n = 0
    while time.monotonic() < end:
        batch = next(it).to(dev)
        (batch @ w).relu_().sum().item()
        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workload:
        return run_workload(args.workload, args.seconds)
    started = time.monotonic()
    out = out_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    summary: dict[str, Any] = {
        "host": platform.node(),
        "python": platform.python_version(),
        "started": time.time(),
        "fake": args.fake,
        "steps": {},
    }
    try:
        from importlib.metadata import version

        summary["nvidia_ml_py"] = version("nvidia-ml-py")
    except Exception as exc:
        summary["nvidia_ml_py"] = f"unknown: {exc}"
    nvml = load_nvml(args.fake)

    def step(name: str, fn: Any, *a: Any) -> None:
        if time.monotonic() - started > DEADLINE_S:
            summary["steps"][name] = {"skipped": "time budget spent"}
            return
        t0 = time.monotonic()
        try:
            summary["steps"][name] = fn(*a)
        except Exception as exc:  # one failed step must not lose the others
            summary["steps"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        summary["steps"][name]["elapsed_s"] = round(time.monotonic() - t0, 2)
        write_json(out / "capture.json", summary)
        print(f"[{time.monotonic() - started:6.1f}s] {name}: {json.dumps(summary['steps'][name])[:300]}")

    if not args.no_pytest and args.fake is None:
        step("pytest_gpu", step_pytest, out)
    if args.fake is None:
        step("snapshot", step_snapshot, out)
    step("nvml_call_timing", step_call_timing, out, nvml, args.ticks)
    step("gpm_probe", step_gpm_probe, out, nvml)
    extras = args.fake is None and not args.no_workloads and args.extras
    if not args.no_workloads and args.fake is None:
        try:
            import torch  # noqa: F401

            have_torch = True
        except Exception as exc:
            summary["steps"]["workloads"] = {"skipped": f"torch not importable: {exc}"}
            have_torch = False
        if have_torch:
            for label in [w for w in args.workloads.split(",") if w]:
                step(f"workload_{label}", step_workload, out, label, args.seconds, args.interval)
            if extras:
                step("thread_cpu", step_thread_cpu, out, 10.0, args.interval)
                step("call_costs", step_call_costs, out, 20.0)
                step("profile_record", step_profile_record, out, 12.0, args.interval)
    summary["elapsed_s"] = round(time.monotonic() - started, 1)
    write_json(out / "capture.json", summary)
    print(f"done in {summary['elapsed_s']} s; output in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
