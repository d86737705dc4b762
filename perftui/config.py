"""Configuration: TOML in the XDG config dir; every option is also a CLI flag; defaults need no file.

`$XDG_CONFIG_HOME/perftui/config.toml` (default `~/.config/perftui/config.toml`), or `$PERFTUI_CONFIG`:

    interval = 1.0        # sampling interval, seconds
    window = 60           # sparkline history window, seconds
    theme = "perftui-dark"
    gpu = true            # sample GPUs

    [serving]             # inference servers to scrape (see perftui.commands.serving_args)
    urls = ["http://127.0.0.1:8000/metrics"]

CLI flags win over the file. A theme picked in the dashboard (`t`, the palette) is written back to
the file (`save_setting`: that one line changes, the rest stays as written). An unknown key or a
wrong type is an error that names the key.
The file must be a regular file of at most `MAX_FILE_BYTES` (a FIFO, a device such as /dev/zero or a
directory is refused without blocking), valid UTF-8 TOML; any parser failure (deep nesting, a huge
integer) is the same one-line config error.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from perftui.core.limits import (
    DEFAULT_INTERVAL,
    DEFAULT_WINDOW,
    MAX_INTERVAL,
    MAX_WINDOW,
    MIN_INTERVAL,
    MIN_WINDOW,
)
from perftui.core.sanitize import clean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(ValueError):
    """A config problem a user can fix; the message names the file and the key."""


MAX_FILE_BYTES = 256 * 1024


class NotARegularFile(OSError):
    """The path is a FIFO, a device, a socket or a directory, or larger than allowed."""


def read_regular_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a small regular file. Opened non-blocking (a FIFO with no writer does not
    hang the open) and checked with fstat on the open descriptor (no race with a swap of the
    path), then read up to `max_bytes` + 1. Raises FileNotFoundError, NotARegularFile or OSError."""
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    )
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotARegularFile(errno.EISDIR, "is a directory, not a file") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO, device or socket"
            raise NotARegularFile(errno.EINVAL, f"is {kind}, not a regular file")
        if st.st_size > max_bytes:
            raise NotARegularFile(errno.EFBIG, f"is {st.st_size:,} bytes (at most {max_bytes:,})")
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise NotARegularFile(errno.EFBIG, f"is more than {max_bytes:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_toml(raw: bytes) -> dict[str, Any]:
    """TOML from bytes; every way the parser can fail is a ValueError with one line."""
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
        return data
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:  # TOMLDecodeError is a ValueError
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(text[:200]) from None


# The themes every install has: perftui's (perftui/themes/*.toml), then Textual's built-in ones
# (a test keeps this list equal to what perftui.ui.themes loads). `--help` names them without
# importing Textual; theme files in $XDG_CONFIG_HOME/perftui/themes add more.
THEME_NAMES = (
    "perftui-dark", "perftui-light", "textual-dark", "textual-light", "nord", "gruvbox",
    "catppuccin-mocha", "dracula", "tokyo-night", "monokai", "flexoki", "catppuccin-latte",
    "catppuccin-frappe", "catppuccin-macchiato", "solarized-light", "solarized-dark", "rose-pine",
    "rose-pine-moon", "rose-pine-dawn", "atom-one-dark", "atom-one-light", "ansi-dark", "ansi-light",
)  # fmt: skip


def theme_help() -> str:
    """The --theme flag's help: every theme name, and where more come from."""
    return (
        f"colour theme: {', '.join(THEME_NAMES)}, or one from a theme file in "
        "$XDG_CONFIG_HOME/perftui/themes (t in the dashboard cycles them and remembers the choice)"
    )


@dataclass(frozen=True)
class Config:
    """The settings in effect: the config file's, then the command line's over them."""

    interval: float = DEFAULT_INTERVAL
    window: float = DEFAULT_WINDOW
    theme: str = "perftui-dark"
    gpu: bool = True
    serving: Any = None  # the [serving] table as written; checked by perftui.commands.serving_args

    def merged(self, **overrides: Any) -> Config:
        """CLI flags on top: only values that were given (not None)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_BOUNDS: dict[str, tuple[float, float]] = {
    "interval": (MIN_INTERVAL, MAX_INTERVAL),
    "window": (MIN_WINDOW, MAX_WINDOW),
}


def config_path() -> Path:
    explicit = os.environ.get("PERFTUI_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "perftui" / "config.toml"


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer past Python's digit limit
        text = "a very large number"
    return clean(text, 80)


def validate(data: dict[str, Any], origin: str = "config") -> Config:
    known = {f.name: f for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{origin}: unknown key {clean(key)!r} (known: {', '.join(sorted(known))})")
        default = getattr(Config(), key)
        if key == "serving":
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: [serving] must be a table, not {value!r}")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{origin}: {key!r} must be true or false, not {_show(value)}")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{origin}: {key!r} must be a number, not {_show(value)}")
            lo, hi = _BOUNDS[key]
            if isinstance(value, int) and abs(value) > 2**53:  # float() of a huge integer overflows
                value = float("inf") if value > 0 else float("-inf")
            if not lo <= float(value) <= hi:
                raise ConfigError(f"{origin}: {key!r} must be between {lo:g} and {hi:g}, not {_show(value)}")
            value = float(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{origin}: {key!r} must be a string, not {_show(value)}")
        values[key] = value
    return Config(**values)


def load_config(path: Path | None = None) -> Config:
    """The file's settings, or the defaults when there is no file."""
    path = path or config_path()
    shown = clean(str(path), 1024)
    try:
        raw = read_regular_file(path)
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        data = parse_toml(raw)
    except ValueError as exc:
        raise ConfigError(f"{shown}: not valid TOML: {clean(str(exc), 300)}") from None
    return validate(data, shown)


_TABLE = re.compile(r"^\s*\[")


def save_setting(path: Path, key: str, value: str | float | bool) -> None:
    """Write `key = value` at the top level of the config file, keeping every other line as written.

    The line that sets `key` is replaced (or one is added before the first table); the result must
    still be a valid config, else ConfigError and the file is left alone (a broken file is not
    overwritten either). Written to a temporary file beside it, then renamed over it."""
    shown = clean(str(path), 1024)
    try:
        text = read_regular_file(path).decode("utf-8")
    except FileNotFoundError:
        text = ""
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        validate(parse_toml(text.encode()), shown)
    except ValueError as exc:
        raise ConfigError(f"{shown}: not saved, the file has an error: {clean(str(exc), 300)}") from None
    import json  # json and tempfile: only to save a setting, not on every start

    literal = json.dumps(value) if not isinstance(value, bool) else ("true" if value else "false")
    line = f"{key} = {literal}"
    setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
    lines = text.splitlines()
    first_table = next((i for i, ln in enumerate(lines) if _TABLE.match(ln)), len(lines))
    at = next((i for i, ln in enumerate(lines[:first_table]) if setting.match(ln)), None)
    if at is not None:
        lines[at] = line
    else:
        lines.insert(first_table, line)
    new_text = "\n".join(lines) + "\n"
    validate(parse_toml(new_text.encode()), shown)  # never write a file load_config would refuse
    path = Path(os.path.realpath(path))  # a linked config (dotfiles) stays a link
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new_text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
