"""The one category table: patterns from REFERENCE.md, nearest-leaf rule, thread-state rules."""

from __future__ import annotations

import pytest

from perftui.core.stack_categories import (
    PATTERNS,
    STACK_CATEGORIES,
    ThreadState,
    classify,
    classify_frames,
    classify_thread_state,
    syscall_kind,
)

SITE = "/usr/lib/python3.11/site-packages"
STD = "/usr/lib/python3.11"


def fr(*frames: str) -> list[tuple[str, str]]:
    """'func@file' strings, innermost first."""
    out = []
    for f in frames:
        name, _, file = f.partition("@")
        out.append((name, file))
    return out


USER = "train_step@/home/u/train.py"


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        # data loading: DataLoader wait above a queue/selectors wait
        (
            fr(
                f"select@{STD}/selectors.py",
                f"wait@{STD}/multiprocessing/connection.py",
                f"Queue.get@{STD}/multiprocessing/queues.py",
                f"_MultiProcessingDataLoaderIter._try_get_data@{SITE}/torch/utils/data/dataloader.py",
                f"_MultiProcessingDataLoaderIter._get_data@{SITE}/torch/utils/data/dataloader.py",
                f"_MultiProcessingDataLoaderIter._next_data@{SITE}/torch/utils/data/dataloader.py",
                f"_BaseDataLoaderIter.__next__@{SITE}/torch/utils/data/dataloader.py",
                USER,
            ),
            "dataloader",
        ),
        (
            fr(f"PreTrainedTokenizerBase.__call__@{SITE}/transformers/tokenization_utils_base.py", USER),
            "tokenization",
        ),
        (fr(f"encode_batch@{SITE}/tokenizers/implementations/base_tokenizer.py", USER), "tokenization"),
        (fr(f"synchronize@{SITE}/torch/cuda/__init__.py", USER), "cuda_sync"),
        (fr(f"Stream.synchronize@{SITE}/torch/cuda/streams.py", USER), "cuda_sync"),
        (
            fr(
                f"all_reduce@{SITE}/torch/distributed/distributed_c10d.py",
                f"wrapper@{SITE}/torch/distributed/c10d_logger.py",
                USER,
            ),
            "collective",
        ),
        (fr(f"barrier@{SITE}/torch/distributed/distributed_c10d.py", USER), "collective"),
        (fr(f"all_gather_into_tensor@{SITE}/torch/distributed/distributed_c10d.py"), "collective"),
        (fr(f"load@{SITE}/numpy/lib/_npyio_impl.py", USER), "disk_read"),
        (fr(f"load@{SITE}/numpy/lib/npyio.py", USER), "disk_read"),
        (fr(f"ImageFile.load@{SITE}/PIL/ImageFile.py", f"open@{SITE}/PIL/Image.py", USER), "disk_read"),
        (fr(f"load@{SITE}/torch/serialization.py", USER), "disk_read"),
        (fr(f"safe_open@{SITE}/safetensors/torch.py", USER), "disk_read"),
        (fr(f"read_table@{SITE}/pyarrow/parquet/core.py", USER), "disk_read"),
        (
            fr(f"SocketIO.readinto@{STD}/socket.py", f"HTTPResponse.begin@{STD}/http/client.py", USER),
            "socket_wait",
        ),
        (fr(f"SSLSocket.recv_into@{STD}/ssl.py", USER), "socket_wait"),
        (fr(f"HTTPConnectionPool.urlopen@{SITE}/urllib3/connectionpool.py", USER), "socket_wait"),
        # asyncio loop waiting in its selector: socket wait
        (
            fr(
                f"EpollSelector.select@{STD}/selectors.py",
                f"BaseSelectorEventLoop._run_once@{STD}/asyncio/base_events.py",
                f"BaseEventLoop.run_forever@{STD}/asyncio/base_events.py",
            ),
            "socket_wait",
        ),
        # generic waits with nothing specific above: idle
        (fr(f"Condition.wait@{STD}/threading.py", f"Queue.get@{STD}/queue.py", USER), "idle"),
        (fr(f"Thread._wait_for_tstate_lock@{STD}/threading.py", f"Thread.join@{STD}/threading.py"), "idle"),
        (fr(f"DefaultSelector.select@{STD}/selectors.py", USER), "idle"),
        (fr(f"Popen.wait@{STD}/subprocess.py", USER), "idle"),
    ],
)
def test_patterns(frames: list[tuple[str, str]], expected: str) -> None:
    assert classify(frames) == expected


def test_nearest_leaf_wins() -> None:
    # a disk read inside the single-process DataLoader fetch: the read is nearer the leaf
    frames = fr(
        f"open@{SITE}/PIL/Image.py",
        "MyDataset.__getitem__@/home/u/data.py",
        f"_MapDatasetFetcher.fetch@{SITE}/torch/utils/data/_utils/fetch.py",
        f"_SingleProcessDataLoaderIter._next_data@{SITE}/torch/utils/data/dataloader.py",
        USER,
    )
    assert classify(frames) == "disk_read"
    # the same fetch computing in user code counts as data loading
    assert classify(frames[1:]) == "dataloader"


def test_asyncio_compute_is_not_socket_wait() -> None:
    # a coroutine computing under the event loop: no wait frame, so asyncio does not decide
    frames = fr(
        "handler@/srv/app.py",
        f"Handle._run@{STD}/asyncio/events.py",
        f"BaseSelectorEventLoop._run_once@{STD}/asyncio/base_events.py",
    )
    assert classify_frames(frames) == (None, False)
    assert classify(frames, ThreadState(active=True, owns_gil=True)) == "compute"


def test_function_patterns_are_anchored() -> None:
    # PIL resize is compute, not a disk read; dataloader __init__ is not a wait on data
    assert classify(fr(f"Image.resize@{SITE}/PIL/Image.py")) == "compute"
    assert classify(fr(f"DataLoader.__init__@{SITE}/torch/utils/data/dataloader.py")) == "compute"


def test_table_uses_only_known_categories() -> None:
    assert {p.category for p in PATTERNS} <= set(STACK_CATEGORIES)
    for cat in ("dataloader", "tokenization", "cuda_sync", "collective", "disk_read", "socket_wait", "idle"):
        assert any(p.category == cat for p in PATTERNS), cat


def test_windows_paths() -> None:
    assert classify([("SocketIO.readinto", "C:\\Python311\\Lib\\socket.py")]) == "socket_wait"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (ThreadState(active=True, owns_gil=True, running=True), "compute"),
        (ThreadState(active=False, owns_gil=False, running=False, syscall="sleep"), "idle"),
        (ThreadState(active=True, owns_gil=False, running=False, syscall="disk"), "disk_read"),
        (ThreadState(active=True, owns_gil=False, proc_state="D"), "disk_read"),
        (ThreadState(active=False, owns_gil=False, running=False, syscall="socket"), "socket_wait"),
        # GIL: blocked in futex while another thread holds the GIL
        (
            ThreadState(active=False, owns_gil=False, other_owns_gil=True, running=False, syscall="futex"),
            "gil",
        ),
        # futex with nobody holding the GIL: a plain lock wait
        (
            ThreadState(active=False, owns_gil=False, other_owns_gil=False, running=False, syscall="futex"),
            "idle",
        ),
        # running C code without the GIL (numpy) while another thread holds it: compute
        (ThreadState(active=True, owns_gil=False, other_owns_gil=True, running=True), "compute"),
        # runnable, called inactive by py-spy, while another thread holds the GIL: woken for the GIL
        (ThreadState(active=False, owns_gil=False, other_owns_gil=True, running=True), "gil"),
        (ThreadState(active=False, owns_gil=False, other_owns_gil=False, running=True), "compute"),
        # on a CPU without the GIL while its own storage reads run at >= 1 MB/s: finishing reads
        (ThreadState(active=True, owns_gil=False, running=True, read_rate=50e6), "disk_read"),
        (ThreadState(active=True, owns_gil=False, running=True, read_rate=10e3), "compute"),
        # holding the GIL: Python code runs, whatever it read
        (ThreadState(active=True, owns_gil=True, running=True, read_rate=50e6), "compute"),
        # no syscall information: py-spy's flags
        (ThreadState(active=True, owns_gil=False, other_owns_gil=True), "gil"),
        (ThreadState(active=False, owns_gil=False), "idle"),
        (ThreadState(active=True, owns_gil=False), "compute"),
        (ThreadState(active=None, owns_gil=None), "compute"),
        (ThreadState(active=True, running=False, syscall="other"), "compute"),
        (ThreadState(active=False, running=False, syscall="other"), "idle"),
    ],
)
def test_thread_state_rules(state: ThreadState, expected: str) -> None:
    assert classify_thread_state(state) == expected


def test_wait_frames_beat_thread_state() -> None:
    frames = fr(f"Condition.wait@{STD}/threading.py")
    assert classify(frames, ThreadState(active=True, owns_gil=True, running=True)) == "idle"


def test_syscall_tables() -> None:
    assert syscall_kind(230, "x86_64") == "sleep"  # clock_nanosleep
    assert syscall_kind(202, "x86_64") == "futex"
    assert syscall_kind(0, "x86_64") == "disk"
    assert syscall_kind(45, "x86_64") == "socket"  # recvfrom
    assert syscall_kind(1, "x86_64") == "other"  # write
    assert syscall_kind(98, "aarch64") == "futex"
    assert syscall_kind(115, "aarch64") == "sleep"
    assert syscall_kind(None, "x86_64") is None
    assert syscall_kind(0, "riscv64") is None
