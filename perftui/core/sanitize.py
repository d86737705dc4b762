"""Strings perftui does not control, made safe to show: no terminal escapes, bounded length.

Process names and command lines, Python function and file names, NIC and disk names, and every
string of a recording someone hands you can hold control characters. Written to a terminal, `ESC ]`
sets the window title or the clipboard (OSC 52), `ESC [ 2J` clears the screen, a carriage return
overwrites what was shown. `clean` turns each of them into visible text, once, where the string
enters perftui (a sampler, the recording reader), so no face has to remember to:

- every C0 control (U+0000-U+001F), DEL (U+007F) and C1 control (U+0080-U+009F) becomes a Python
  style escape shown as text: ESC -> ``\\x1b``, BEL -> ``\\x07``, newline -> ``\\n``, tab -> ``\\t``,
  CSI (U+009B) -> ``\\x9b``;
- the Unicode line and paragraph separators and the bidirectional overrides and isolates
  (U+2028, U+2029, U+202A-U+202E, U+2066-U+2069), which reorder or break what follows them, become
  ``\\u2028``-style escapes;
- a string longer than `limit` characters is cut and ends with ``…`` (names: `NAME_MAX`; free
  text such as a command line or an evidence line: `TEXT_MAX`).

A backslash already in the string is left as it is, so ``\\x1b`` on screen means "there was an
escape character here, or those four characters" — either way nothing reaches the terminal raw.
Strings that are already printable and short return unchanged at the cost of one `isprintable`.
`clean_tree` does the same to every string (dictionary keys too) of a JSON-like value, walking it
without recursion and refusing one nested deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import re
from typing import Any

NAME_MAX = 256
TEXT_MAX = 4096
MAX_DEPTH = 32
ELLIPSIS = "…"

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str, limit: int = NAME_MAX) -> str:
    """`text` with every control character shown as an escape, cut to `limit` characters."""
    if not text.isprintable():  # every character `_UNSAFE` matches is non-printable
        text = _UNSAFE.sub(_escape, text)
    if len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    return text


def clean_text(text: str) -> str:
    """Free text (a command line, a reason, an evidence line): the longer cap."""
    return clean(text, TEXT_MAX)


class TooDeep(ValueError):
    """A JSON-like value nested deeper than the limit."""


def clean_tree(value: Any, limit: int = TEXT_MAX, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of a JSON-like value (dict, list, tuple, str, numbers, None, bool) with every string
    cleaned (keys with `NAME_MAX`); built with an explicit stack, so depth costs no recursion.
    Raises `TooDeep` past `max_depth` levels. Other types are kept as they are."""
    root: list[Any] = [None]
    # (source container, destination, slot in destination, depth)
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        src, dst, slot, depth = stack.pop()
        if isinstance(src, str):
            dst[slot] = clean(src, limit)
        elif isinstance(src, dict):
            if depth >= max_depth:
                raise TooDeep(f"nested deeper than {max_depth} levels")
            out: dict[Any, Any] = {}
            dst[slot] = out
            for k, v in src.items():
                key = clean(k, NAME_MAX) if isinstance(k, str) else k
                out[key] = None
                stack.append((v, out, key, depth + 1))
        elif isinstance(src, (list, tuple)):
            if depth >= max_depth:
                raise TooDeep(f"nested deeper than {max_depth} levels")
            items: list[Any] = [None] * len(src)
            dst[slot] = items
            for i, v in enumerate(src):
                stack.append((v, items, i, depth + 1))
        else:
            dst[slot] = src
    return root[0]
