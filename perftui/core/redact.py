"""Redaction of likely secrets in command lines and environment-style assignments.

Recordings and reports carry command lines (perftui's own, and the attached process tree's) and
are meant to be pasted into tickets. Before they are written, what looks like a secret becomes
`[REDACTED]`:

- a flag naming a secret, with its value as the next argument or after `=`:
  `--password X`, `--password=X`, `--db-password X`, `--token X`, `--api-key=X`, `--secret X`,
  `--access-key X`, `--private-key X`, `--auth-token X`, `--passwd X` (any case, `-` or `--`);
- an environment-style assignment whose name ends in KEY, TOKEN, SECRET, PASSWORD, PASSWD or
  PASS after `_` (or is one of those): `AWS_SECRET_ACCESS_KEY=...`, `HF_TOKEN=...`, `PASSWORD=...`;
- the user-info part of a URL: `scheme://user:pass@host` and `scheme://token@host` become
  `scheme://[REDACTED]@host`.

It errs on the side of redacting (`SORT_KEY=name` is redacted too). Short flags such as `-p` are
left alone: too many tools use them for ports and paths. The module is pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_WORD = (
    r"(?:password|passwd|passphrase|token|secret|api[-_]?key|access[-_]?key|private[-_]?key|credentials?)"
)
# --password, --db-password, --auth-token, --api_key (the secret word ends the flag name)
_FLAG = re.compile(rf"^(--?(?:[a-z0-9]+[-_])*{_SECRET_WORD})$", re.IGNORECASE)
_FLAG_EQ = re.compile(rf"^(--?(?:[a-z0-9]+[-_])*{_SECRET_WORD})=(.*)$", re.IGNORECASE | re.DOTALL)
# the same flags inside free text (a shell string such as `sh -c "tool --token abc"`)
_FLAG_IN_TEXT = re.compile(
    rf"(?<![\w-])(--?(?:[a-z0-9]+[-_])*{_SECRET_WORD})(=|\s+)(\"[^\"]*\"|'[^']*'|[^\s\"']+)",
    re.IGNORECASE,
)
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ENV_SECRET = re.compile(
    rf"(?<![\w-])((?:{_ENV_NAME}_)?(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|APIKEY))=(\"[^\"]*\"|'[^']*'|[^\s\"']*)",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)

_COMMAND_KEYS = frozenset({"cmdline", "command_line", "command", "cmd", "argv", "args"})


def redact_text(text: str) -> str:
    """Redact secrets inside one string (an argument, or a whole shell command line)."""
    if "=" not in text and "://" not in text and "-" not in text:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    out = _FLAG_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)
    return _ENV_SECRET.sub(lambda m: f"{m.group(1)}={REDACTED}", out)


def redact_argv(argv: Sequence[Any]) -> list[str]:
    """Redact an argument vector: a secret flag's next argument, `--flag=value`, and each argument."""
    out: list[str] = []
    hide_next = False
    for raw in argv:
        arg = str(raw)
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if _FLAG.match(arg):
            out.append(arg)
            hide_next = True
            continue
        m = _FLAG_EQ.match(arg)
        if m:
            out.append(f"{m.group(1)}={REDACTED}")
            continue
        out.append(redact_text(arg))
    return out


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact a JSON-like value: lists under a command key as argv, every other string as text."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if key is not None and key.lower() in _COMMAND_KEYS and all(isinstance(v, str) for v in value):
            return redact_argv(value)
        return [redact_value(v) for v in value]
    return value
