"""Configuration: TOML in the XDG config dir; every option is also a CLI flag; defaults need no file.

`$XDG_CONFIG_HOME/perftui/config.toml` (default `~/.config/perftui/config.toml`), or `$PERFTUI_CONFIG`:

    interval = 1.0        # sampling interval, seconds
    window = 60           # sparkline history window, seconds
    theme = "perftui-dark"
    gpu = true            # sample GPUs

    [serving]             # inference servers to scrape (see perftui.commands.serving_args)
    urls = ["http://127.0.0.1:8000/metrics"]

CLI flags win over the file. An unknown key or a wrong type is an error that names the key.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(ValueError):
    """A config problem a user can fix; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    interval: float = 1.0
    window: float = 60.0
    theme: str = "perftui-dark"
    gpu: bool = True
    serving: Any = None  # the [serving] table as written; checked by perftui.commands.serving_args

    def merged(self, **overrides: Any) -> Config:
        """CLI flags on top: only values that were given (not None)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_BOUNDS: dict[str, tuple[float, float]] = {
    "interval": (0.05, 60.0),
    "window": (10.0, 900.0),
}


def config_path() -> Path:
    explicit = os.environ.get("PERFTUI_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "perftui" / "config.toml"


def validate(data: dict[str, Any], origin: str = "config") -> Config:
    known = {f.name: f for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{origin}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        default = getattr(Config(), key)
        if key == "serving":
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: [serving] must be a table, not {value!r}")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{origin}: {key!r} must be true or false, not {value!r}")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{origin}: {key!r} must be a number, not {value!r}")
            lo, hi = _BOUNDS[key]
            if not lo <= float(value) <= hi:
                raise ConfigError(f"{origin}: {key!r} must be between {lo:g} and {hi:g}, not {value!r}")
            value = float(value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{origin}: {key!r} must be a string, not {value!r}")
        values[key] = value
    return Config(**values)


def load_config(path: Path | None = None) -> Config:
    """The file's settings, or the defaults when there is no file."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return validate(data, str(path))
