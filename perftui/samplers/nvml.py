"""The one wrapper every NVML call goes through.

- `Nvml(module)` takes the `pynvml` module (or a fake with the same names) by
  injection; None imports the real one lazily.
- NotSupported / NoPermission / FunctionNotFound (and a binding that lacks
  the function) are remembered per (device, call) — per argument too for the
  few calls in VARIANT_CALLS (SM vs memory clock...): a missing feature
  costs one failed call in total, then the call answers None without asking.
- GpuIsLost marks that device lost: every later call for it answers None,
  the sampler drops its values and says so; other devices keep going.
- Any other NVML error (NOT_FOUND, TIMEOUT, UNKNOWN...) answers None for this
  call only, and is counted. A non-NVML exception from the binding itself
  (ctypes, signature) is remembered like NotSupported.
- Counters per (device, call) of calls made, and optionally the time spent in
  each call (benchmarks, the GPU capture script).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

from perftui.core.types import SourceStatus

NO_DRIVER_REASON = "no NVIDIA driver (libnvidia-ml.so.1 not found)"
DRIVER_NOT_LOADED_REASON = "NVIDIA driver not loaded (NVML: Driver Not Loaded)"
NO_GPU_REASON = "no NVIDIA GPU found"

# NVML_ERROR_* values (identical in every NVML version).
ERR_NOT_SUPPORTED = 3
ERR_NO_PERMISSION = 4
ERR_NOT_FOUND = 6
ERR_DRIVER_NOT_LOADED = 9
ERR_TIMEOUT = 10
ERR_LIBRARY_NOT_FOUND = 12
ERR_FUNCTION_NOT_FOUND = 13
ERR_GPU_IS_LOST = 15
ERR_ARGUMENT_VERSION_MISMATCH = 25
ERR_DEPRECATED = 26

# Errors that will not change while the process runs: remember and stop asking.
PERMANENT_ERRORS = frozenset(
    {
        ERR_NOT_SUPPORTED,
        ERR_NO_PERMISSION,
        ERR_FUNCTION_NOT_FOUND,
        ERR_ARGUMENT_VERSION_MISMATCH,
        ERR_DEPRECATED,
    }
)

Key = tuple[int, str, tuple[Any, ...]]  # (device index or -1 for system calls, call name, extra args)


class _NoNvmlError(Exception):
    """Stands in for NVMLError when the module has none (never raised)."""


def load_pynvml() -> ModuleType:
    return importlib.import_module("pynvml")


NVML_LIBRARY = "libnvidia-ml.so.1"  # the name pynvml loads on Linux


def nvml_library_found() -> bool:
    """Whether the dynamic loader finds the NVML library: pynvml's own first step (a CDLL of that
    name), taken without importing pynvml — a 5,000-line module, ~20 ms of the dashboard's start
    on a machine that has no NVIDIA driver. Elsewhere than Linux, pynvml's own search decides."""
    if not sys.platform.startswith("linux"):
        return True
    import ctypes

    try:
        ctypes.CDLL(NVML_LIBRARY)
    except OSError:
        return False
    return True


# Calls whose support can differ by argument (clock type, sensor, counter, event mask): their plain
# arguments are part of the remembered key. Every other call is keyed by (device, name) only, so a
# changing argument (a last-seen timestamp) cannot defeat the memory.
VARIANT_CALLS = frozenset(
    {
        "nvmlDeviceGetHandleByIndex",
        "nvmlDeviceGetClockInfo",
        "nvmlDeviceGetMaxClockInfo",
        "nvmlDeviceGetMemoryInfo",  # v1 and v2 (version argument): a driver may lack v2 alone
        "nvmlDeviceGetPcieThroughput",
        "nvmlDeviceGetTemperature",
        "nvmlDeviceGetTemperatureV",
        "nvmlDeviceRegisterEvents",
        "nvmlDeviceGetTotalEccErrors",
    }
)


def _key_args(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The hashable plain arguments (ints, strings) of a variant call; () for the others."""
    if name not in VARIANT_CALLS:
        return ()
    return tuple(a for a in args if isinstance(a, (int, str)))


def error_code(exc: BaseException) -> int | None:
    value = getattr(exc, "value", None)
    return value if isinstance(value, int) else None


class Nvml:
    def __init__(self, module: ModuleType | None = None, *, timed: bool = False) -> None:
        self._module = module
        self.mod: Any = None
        self.timed = timed
        self.timer: Callable[[], float] = time.perf_counter  # benchmarks may use time.thread_time
        self.handles: list[Any] = []
        self.calls: Counter[tuple[int, str]] = Counter()
        self.errors: Counter[tuple[int, str]] = Counter()
        self.seconds: dict[str, float] = {}  # time inside NVML per call name (timed=True)
        self.unsupported: dict[Key, str] = {}
        self.lost: dict[int, str] = {}
        self._fns: dict[str, Callable[..., Any] | None] = {}
        self._error_type: type[BaseException] = _NoNvmlError
        self._initialised = False

    # -- lifecycle -------------------------------------------------------
    def init(self) -> SourceStatus:
        """nvmlInit and the device handles; the reason when that fails or finds no GPU."""
        if self._module is None and not nvml_library_found():
            return SourceStatus.unavailable(NO_DRIVER_REASON)
        try:
            mod = self._module if self._module is not None else load_pynvml()
        except Exception:
            return SourceStatus.unavailable(NO_DRIVER_REASON)
        self.mod = mod
        self._error_type = getattr(mod, "NVMLError", None) or _NoNvmlError
        try:
            mod.nvmlInit()
        except Exception as exc:
            code = error_code(exc)
            if code == ERR_LIBRARY_NOT_FOUND or not isinstance(exc, self._error_type):
                return SourceStatus.unavailable(NO_DRIVER_REASON)
            if code == ERR_DRIVER_NOT_LOADED:
                return SourceStatus.unavailable(DRIVER_NOT_LOADED_REASON)
            return SourceStatus.unavailable(f"NVML did not initialise: {exc}")
        self._initialised = True
        count = self.call(-1, "nvmlDeviceGetCount")
        if not count:
            return SourceStatus.unavailable(NO_GPU_REASON)
        self.handles = []
        for i in range(int(count)):
            h = self.call(-1, "nvmlDeviceGetHandleByIndex", i)
            self.handles.append(h)
            if h is None and i not in self.lost:
                self.lost[i] = "NVML gave no handle for this GPU"
        return SourceStatus.ok()

    def shutdown(self) -> None:
        if self._initialised:
            self._initialised = False
            self.call(-1, "nvmlShutdown")

    @property
    def count(self) -> int:
        return len(self.handles)

    # -- calls -----------------------------------------------------------
    def _fn(self, name: str) -> Callable[..., Any] | None:
        try:
            return self._fns[name]
        except KeyError:
            fn = getattr(self.mod, name, None)
            self._fns[name] = fn
            return fn

    def has(self, name: str) -> bool:
        """The binding provides `name` (an older nvidia-ml-py may not)."""
        return self._fn(name) is not None

    def supported(self, index: int, name: str, *args: Any) -> bool:
        """False once this (device, call, int args) failed for good, or the device is lost."""
        return index not in self.lost and (index, name, _key_args(name, args)) not in self.unsupported

    def call(self, index: int, name: str, *args: Any) -> Any:
        """`name(*args)` for device `index` (-1: a system call); None when absent."""
        return self._call(index, name, args, args)

    def dev(self, index: int, name: str, *args: Any) -> Any:
        """A per-device call: the device handle goes first (it is not part of the key)."""
        if index in self.lost:
            return None
        return self._call(index, name, args, (self.handles[index], *args))

    def _call(self, index: int, name: str, key_args: tuple[Any, ...], args: tuple[Any, ...]) -> Any:
        if index in self.lost:
            return None
        key = (index, name, _key_args(name, key_args) if key_args else ())
        if key in self.unsupported:
            return None
        fn = self._fn(name)
        if fn is None:
            self.unsupported[key] = "function not in this nvidia-ml-py"
            return None
        self.calls[(index, name)] += 1
        try:
            if self.timed:
                t0 = self.timer()
                try:
                    return fn(*args)
                finally:
                    self.seconds[name] = self.seconds.get(name, 0.0) + self.timer() - t0
            return fn(*args)
        except self._error_type as exc:
            self.errors[(index, name)] += 1
            code = error_code(exc)
            if code in PERMANENT_ERRORS:
                self.unsupported[key] = str(exc)
            elif code == ERR_GPU_IS_LOST and index >= 0:
                self.lost[index] = "GPU is lost (NVML: GPU_IS_LOST); it needs a reset or a reboot"
            return None
        except Exception as exc:  # the binding itself failed (ctypes, signature): treat as absent
            self.errors[(index, name)] += 1
            self.unsupported[key] = f"binding error: {type(exc).__name__}: {exc}"
            return None

    def mark_lost(self, index: int, reason: str) -> None:
        self.lost.setdefault(index, reason)

    def calls_by_name(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (_, name), n in self.calls.items():
            out[name] += n
        return dict(out)

    def const(self, name: str, default: Any = None) -> Any:
        return getattr(self.mod, name, default)
