"""The attached tree's head: the live figures go once the process exits (the samples stay), and the
container the process runs in, from what the store already has (the process list's row, else the
cgroup sampler's attached cgroup). The exit is also checked against a real process the test ends."""

from __future__ import annotations

import subprocess
import sys

from perftui.core.cgroup_names import identify
from perftui.core.types import SourceStatus
from perftui.samplers.cgroup import CgroupSampler
from perftui.samplers.cgroup_files import CgroupDirs
from perftui.store.metric_store import MetricStore
from perftui.ui.widgets.process_pane import ProcessPane
from perftui.ui.widgets.process_tree import attached_container, tree_lines
from tests.polling import wait_for
from tests.ui.test_process_attach import live_app
from tests.ui.test_process_list import publish, row
from tests.ui.test_process_pane import PID, attach_store

DOCKER_ID = "3f2a9c1b7d4e" + "0" * 52
K8S_PATH = (
    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7c1e2a3b_0d4f_4e5a_9b6c_1d2e3f4a5b6c.slice/"
    f"cri-containerd-{DOCKER_ID}.scope"
)


def attached_store() -> MetricStore:
    store = MetricStore()
    attach_store(store, 1000.0)
    return store


def exit_now(store: MetricStore, code: int = 3) -> str:
    """What the process sampler publishes when the attached process exits."""
    msg = f"process {PID} exited with status {code} at 12:00:05"
    store.set_status("process", SourceStatus.unavailable(msg))
    info = {**store.detail("proc.info"), "status": "exited", "exit_code": code, "message": msg}
    store.set_detail("proc.info", info)
    store.set_detail("proc.tree", [])
    return msg


def test_exited_process_head_has_no_live_figures_and_says_it_exited() -> None:
    store = attached_store()
    assert tree_lines(store)[0][0][0] == "PID 4242 python · 4 procs · CPU 166% · RSS 8.9 GiB · GPU 30.0 GiB"
    msg = exit_now(store)
    lines = ["".join(p for p, _ in ln) for ln in tree_lines(store)]
    assert lines[0] == "PID 4242 python · exited (status 3)"
    assert lines[1:] == [msg, "samples so far are kept (s writes a report)"]
    assert store.latest("proc.cpu") == 165.5  # the samples stay (a report still has them)


def test_unreadable_process_head_has_no_stale_figures() -> None:
    store = attached_store()
    store.set_status("process", SourceStatus.unavailable("no process with PID 4242"))
    lines = ["".join(p for p, _ in ln) for ln in tree_lines(store)]
    assert lines[0] == "PID 4242 python" and lines[1] == "no process with PID 4242"


def test_container_from_the_process_list_row() -> None:
    store = attached_store()
    assert attached_container(store, PID) == ""
    publish(store, [row(PID, "python", 97.0, 6.0, container="docker 3f2a9c1b7d4e"), row(1, "init", 0.0, 0.0)])
    assert tree_lines(store)[0][0][0].startswith("PID 4242 python · in docker 3f2a9c1b7d4e · 4 procs")
    publish(store, [row(PID, "python", 97.0, 6.0)])  # listed, in no container
    assert attached_container(store, PID) == "" and " in " not in tree_lines(store)[0][0][0]


def test_container_from_the_attached_cgroup_when_the_list_does_not_have_it() -> None:
    store = attached_store()
    ident = identify(K8S_PATH)  # what the cgroup sampler publishes for --pid in a pod
    store.set_detail("cgroup.attached", ident.slug)
    store.set_detail("cgroup.groups", {ident.slug: CgroupSampler._group_info(ident, CgroupDirs(), K8S_PATH)})
    assert attached_container(store, PID) == "pod 7c1e2a3b container 3f2a9c1b7d4e"
    head = tree_lines(store)[0][0][0]
    assert head.startswith("PID 4242 python · in pod 7c1e2a3b container 3f2a9c1b7d4e ·")
    # a systemd unit is no container: nothing said
    unit = identify("/system.slice/nginx.service")
    store.set_detail("cgroup.attached", unit.slug)
    store.set_detail("cgroup.groups", {unit.slug: CgroupSampler._group_info(unit, CgroupDirs(), "/x")})
    assert attached_container(store, PID) == ""


async def test_a_real_attached_process_that_exits_clears_the_head() -> None:
    child = subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"])
    try:
        app, store, runner = live_app(child.pid)
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.pause()
            pane = app.query_one(ProcessPane)
            pane.focus()
            await pilot.press("a")
            assert wait_for(lambda: store.latest("proc.cpu") is not None, timeout=20)
            app.dashboard.refresh_view()
            await pilot.pause()
            assert pane.attached and "CPU " in pane.lines[0]
            child.kill()
            child.wait()
            assert wait_for(lambda: store.detail("proc.info", {}).get("status") == "exited", timeout=20)
            app.dashboard.refresh_view()
            await pilot.pause()
            head = pane.lines[0]
            assert head.startswith(f"PID {child.pid} python") and "exited" in head
            assert "CPU" not in head and "RSS" not in head
            assert store.latest("proc.cpu") is not None
            await pilot.press("a")  # detach
            await pilot.pause()
        runner.stop()
    finally:
        child.kill()
        child.wait()
