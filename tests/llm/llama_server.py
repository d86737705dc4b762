"""A real llama.cpp `llama-server` for tests: built once from the llama-cpp-python sdist, cached by version.

`build_llama_server()` downloads the sdist with pip (PyPI is reachable), builds only the `llama-server`
target (SERVING.md §6 flags: no web UI download, no OpenSSL, static, portable) and caches the binary
under `${PERFTUI_TEST_CACHE:-~/.cache/perftui-tests}/llama-server-<ver>/llama-server`; a lock file makes
a second process wait for the first build instead of starting its own. `write_tiny_model()` writes a
sub-megabyte random-weight llama GGUF; `running_llama_server()` starts the binary on a free loopback port
with `--metrics -t 1` and stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
BUILD_TIMEOUT_S = 1800.0


def cache_dir() -> Path:
    root = os.environ.get("PERFTUI_TEST_CACHE") or str(Path.home() / ".cache" / "perftui-tests")
    return Path(root) / f"llama-server-{LLAMA_CPP_PYTHON_VERSION}"


def binary_path() -> Path:
    return cache_dir() / "llama-server"


def missing_build_tools() -> str | None:
    """Why the build cannot run here (None when cmake and a C++ compiler are present)."""
    if binary_path().is_file():
        return None
    if shutil.which("cmake") is None:
        return "cmake is not installed (needed to build llama-server)"
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "no C++ compiler (c++/g++/clang++) to build llama-server"
    return None


def _cmake_args(src: Path, build: Path) -> list[str]:
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    return [
        "cmake",
        "-S",
        str(src),
        "-B",
        str(build),
        *gen,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_CXX_FLAGS_RELEASE=-O1",
        "-DCMAKE_C_FLAGS_RELEASE=-O1",
        "-DGGML_NATIVE=OFF",
        "-DBUILD_SHARED_LIBS=OFF",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
        "-DLLAMA_BUILD_SERVER=ON",
        "-DLLAMA_BUILD_UI=OFF",
        "-DLLAMA_USE_PREBUILT_UI=OFF",
        "-DLLAMA_OPENSSL=OFF",
        "-DLLAMA_CURL=OFF",
    ]


def _build(dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="perftui-llama-build-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                str(work),
                f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}",
            ],
            check=True,
        )
        sdist = next(work.glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if "/vendor/llama.cpp/" in m.name]
            tar.extractall(work, members=members, filter="data")
        src = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
        build = work / "build"
        subprocess.run(_cmake_args(src, build), check=True, stdout=subprocess.DEVNULL)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(
            ["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        built = next(p for p in build.rglob("llama-server") if p.is_file() and os.access(p, os.X_OK))
        tmp_dest = dest.with_suffix(".part")
        shutil.copy2(built, tmp_dest)
        subprocess.run(["strip", str(tmp_dest)], check=False)
        tmp_dest.replace(dest)


def build_llama_server() -> Path:
    """The cached `llama-server` binary, building it first if it is not there yet (once, under a lock)."""
    dest = binary_path()
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits here for the first build
        if not dest.is_file():
            _build(dest)
    return dest


def write_tiny_model(path: Path) -> Path:
    """Write a ~0.8 MB random-weight llama GGUF whose vocabulary covers any UTF-8 text (byte fallback)."""
    import gguf
    import numpy as np

    n_embd, n_head, n_ff, n_layer, n_ctx = 64, 4, 128, 2, 2048
    words = [f"w{i}" for i in range(200)] + [
        "\u2581the", "\u2581a", "\u2581is", "\u2581of", "\u2581and", "\u2581to", "\u2581in", "\u2581it",
    ]  # fmt: skip
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + words
    scores = [0.0] * 3 + [-1000.0] * 256 + [-float(i) for i in range(len(words))]
    types = [2, 3, 3] + [6] * 256 + [1] * len(words)  # unknown, control, byte, normal
    n_vocab = len(tokens)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("perftui-tiny")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)  # all F32
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_chat_template(
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}"
    )
    rng = np.random.default_rng(0)

    def t(name: str, *shape: int, scale: float = 0.02) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    t("token_embd.weight", n_vocab, n_embd)
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    out = (rng.standard_normal((n_vocab, n_embd)) * 0.02).astype(np.float32)
    out[: 3 + 256] = 0.0  # never pick control or byte tokens: every request streams exactly max_tokens
    out[3 + 256 :, 0] += 1.0
    w.add_tensor("output.weight", out)
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", n_embd, n_embd)
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=1.0) as r:
            return int(r.status) == 200
    except OSError:
        return False


@contextlib.contextmanager
def running_llama_server(
    model: Path, binary: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start `llama-server` on a free 127.0.0.1 port with `--metrics -t 1`; yield (base URL, process)."""
    exe = binary or build_llama_server()
    port = free_port()
    args = [str(exe), "-m", str(model), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--metrics", "-t", "1", "-c", "2048", "-np", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30.0
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {proc.returncode} before /health answered")
            if time.monotonic() > deadline:
                raise RuntimeError("llama-server did not answer /health within 30 s")
            time.sleep(0.05)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    print(build_llama_server())
