"""The serving source's user errors, light to import (the CLI checks options before loading the source)."""

from __future__ import annotations


class ServeError(ValueError):
    """A `--serve` value or `[serving]` entry that cannot be used (one line for the CLI)."""
