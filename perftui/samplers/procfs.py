"""Small helpers to read /proc- and /sys-like files from a configurable root.

Every host sampler takes `proc_root` and `sys_root` so tests can point it at
a fixture tree. Readers return None for a file that does not exist; other
OS errors (permission, EOPNOTSUPP) propagate so the caller can say why.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable

from perftui.samplers.base import RateTracker

# The kernel prints most counters as `unsigned long`: 64-bit on a 64-bit kernel.
ULONG_MODULUS = float(2**64) if sys.maxsize > 2**32 else float(2**32)
U32_MODULUS = float(2**32)


def _clock_ticks_per_s() -> float:
    try:
        return float(os.sysconf("SC_CLK_TCK"))
    except (ValueError, OSError, AttributeError):  # no sysconf (not POSIX) or no such name
        return 100.0


# The unit of the CPU times in /proc/stat and /proc/PID/stat (USER_HZ, 100 on x86 and arm64).
CLK_TCK = _clock_ticks_per_s()


def join(root: str, *parts: str) -> str:
    return os.path.join(root, *parts)


def read_text(path: str) -> str | None:
    """The whole file, or None when it (or a directory above it) does not exist.

    Plain os.open/os.read: the samplers read a dozen small /proc files every tick, and Python's
    buffered text layer doubled the cost of each read (12 vs 28 us for /proc/pressure/cpu).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("ascii", errors="replace")


def read_str(path: str) -> str | None:
    """A one-value sysfs file, stripped; None when missing or unreadable."""
    try:
        text = read_text(path)
    except OSError:
        return None
    return None if text is None else text.strip()


def read_int(path: str) -> int | None:
    """A one-integer sysfs file; None when missing, unreadable or not an integer."""
    text = read_str(path)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def parse_kv(text: str, keys: Iterable[str] | None = None) -> dict[str, int]:
    """`key value` lines (/proc/vmstat); lines that do not parse are skipped.

    With `keys`, only those are converted (vmstat has ~180 lines; a tick needs 3).
    """
    if keys is not None:  # one regex scan in C instead of a Python loop over every line
        return {m[1]: int(m[2]) for m in _kv_pattern(frozenset(keys)).finditer(text)}
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, _, raw = line.partition(" ")
        try:
            out[name] = int(raw)
        except ValueError:
            continue
    return out


@functools.lru_cache(maxsize=16)
def _kv_pattern(keys: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(sorted(re.escape(k) for k in keys))
    return re.compile(rf"^({names}) ([+-]?\d+)[ \t]*$", re.MULTILINE)


def parse_header_pairs(text: str, prefix: str) -> dict[str, int] | None:
    """/proc/net/snmp style: a header line and a value line that share a prefix.

    Returns None when the pair is not there (or is malformed).
    """
    lines = [ln.split() for ln in text.splitlines() if ln.startswith(prefix)]
    if len(lines) < 2:
        return None
    header, values = lines[0][1:], lines[1][1:]
    if len(header) != len(values):
        return None
    out: dict[str, int] = {}
    for name, raw in zip(header, values, strict=True):
        try:
            out[name] = int(raw)
        except ValueError:
            continue
    return out


def list_dir(path: str) -> list[str]:
    """Sorted entries of a directory; empty when it is missing or unreadable."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


class CounterRates:
    """RateTracker for counters whose width is not known up front.

    Some NIC drivers keep 32-bit counters behind the kernel's 64-bit fields;
    a counter that goes backwards from the top half of the 32-bit range is
    taken as a 32-bit wrap, any other backwards move as a reset (no value).
    """

    def __init__(self) -> None:
        self._rates = RateTracker()
        self._last: dict[str, float] = {}

    def rate(self, key: str, value: float, ts: float, *, scale: float = 1.0) -> float | None:
        prev = self._last.get(key)
        self._last[key] = value
        wrap = U32_MODULUS if prev is not None and prev < U32_MODULUS else ULONG_MODULUS
        return self._rates.rate(key, value, ts, wrap=wrap, scale=scale)

    def forget_except(self, keep: Iterable[str]) -> None:
        """Drop the state of keys not seen this tick (a NIC or disk that went away)."""
        keep_set = set(keep)
        for key in [k for k in self._last if k not in keep_set]:
            del self._last[key]
            self._rates.forget(key)
