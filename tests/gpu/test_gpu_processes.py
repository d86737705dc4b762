"""Per-process GPU use: memory, SM/memory utilisation, NOT_FOUND handling, container pids."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from perftui.core.gpu import processes_for_pids, usage_for_pids
from perftui.samplers.gpu_processes import container_pid
from tests.fakes.fake_nvml import FakeProcess, GiB, GpuSpec, Scenario
from tests.gpu.conftest import MakeFake, run_ticks, sampler_for
from tests.polling import wait_for


def test_compute_and_graphics_processes_with_utilisation(fake_nvml: MakeFake) -> None:
    procs = [
        FakeProcess(pid=101, used_bytes=4 * GiB, kind="compute", sm_util=70, mem_util=20),
        FakeProcess(pid=102, used_bytes=GiB, kind="graphics", sm_util=5, mem_util=1),
        FakeProcess(pid=103, used_bytes=None, kind="compute", sm_util=None),
    ]
    fake = fake_nvml(Scenario(gpus=[GpuSpec(processes=procs)]))
    s = sampler_for(fake)
    run_ticks(s, fake, 1)
    got = {p["pid"]: p for p in s.details()["gpu.processes"]}
    assert got[101] == {
        "gpu": 0,
        "pid": 101,
        "used_bytes": 4 * GiB,
        "type": "compute",
        "sm_util": 70.0,
        "mem_util": 20.0,
        "container_pid": None,
    }
    assert got[102]["type"] == "graphics" and got[102]["sm_util"] == 5.0
    assert got[103]["used_bytes"] is None and got[103]["sm_util"] is None  # unknown, not 0


def test_not_found_keeps_previous_sample_then_forgets(fake_nvml: MakeFake) -> None:
    proc = FakeProcess(pid=201, sm_util=60, mem_util=10)
    fake = fake_nvml(Scenario(gpus=[GpuSpec(processes=[proc])]))
    s = sampler_for(fake)
    run_ticks(s, fake, 1)
    proc.sm_util = None  # the driver has no new sample for it: NOT_FOUND
    run_ticks(s, fake, 2)
    (entry,) = s.details()["gpu.processes"]
    assert entry["sm_util"] == 60.0  # kept while recent
    assert fake.calls["nvmlDeviceGetProcessUtilization"] == 3  # NOT_FOUND is asked again each tick
    run_ticks(s, fake, 6)  # older than keep_s (5 s of fake time)
    (entry,) = s.details()["gpu.processes"]
    assert entry["sm_util"] is None and entry["used_bytes"] == 2 * GiB


def test_process_utilisation_asks_only_for_new_samples(fake_nvml: MakeFake) -> None:
    fake = fake_nvml(Scenario(gpus=[GpuSpec(processes=[FakeProcess(pid=301)])]))
    seen: list[int] = []
    real = fake.nvmlDeviceGetProcessUtilization

    def spy(handle: object, last_seen: int) -> object:
        seen.append(last_seen)
        return real(handle, last_seen)  # type: ignore[arg-type]

    fake.nvmlDeviceGetProcessUtilization = spy  # type: ignore[method-assign,assignment]
    run_ticks(sampler_for(fake), fake, 3)
    assert seen[0] == 0 and seen[1] > 0 and seen[2] > seen[1]


def test_attach_helper_filters_by_pid(fake_nvml: MakeFake) -> None:
    fake = fake_nvml("8gpu")
    s = sampler_for(fake)
    run_ticks(s, fake, 1)
    detail = s.details()["gpu.processes"]
    mine = processes_for_pids(detail, [os.getpid()])
    assert len(mine) == 8
    mem, sm = usage_for_pids(detail, [os.getpid()])
    assert mem == sum(i + 1 for i in range(8)) * GiB and sm == 8 * 40.0


def test_container_pid_from_a_fixture_status_file(tmp_path: Path) -> None:
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "status").write_text("Name:\tpython\nPid:\t4242\nNSpid:\t4242\t17\t1\n")
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_text("Name:\tbash\nNSpid:\t7\n")
    assert container_pid(4242, str(tmp_path)) == 1
    assert container_pid(7, str(tmp_path)) is None
    assert container_pid(99999, str(tmp_path)) is None


def _unshare_works() -> bool:
    try:
        return (
            subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, timeout=10).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare --pid` (root or user namespaces)")
def test_real_process_in_a_pid_namespace_maps_to_its_container_pid(fake_nvml: MakeFake) -> None:
    # a real process in its own pid namespace: NVML would report its host pid
    p = subprocess.Popen(["unshare", "--pid", "--fork", "sleep", "30"])
    try:
        kids: list[str] = []

        def forked() -> bool:
            kids[:] = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
            return bool(kids)

        assert wait_for(forked)
        child = int(kids[0])
        fake = fake_nvml(
            Scenario(gpus=[GpuSpec(processes=[FakeProcess(pid=child), FakeProcess(pid=os.getpid())])])
        )
        s = sampler_for(fake)
        run_ticks(s, fake, 1)
        got = {e["pid"]: e for e in s.details()["gpu.processes"]}
        assert got[child]["container_pid"] == 1  # pid 1 inside its namespace
        assert got[os.getpid()]["container_pid"] is None
    finally:
        p.kill()
        p.wait()
