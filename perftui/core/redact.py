"""Redaction of likely secrets in command lines, headers, JSON and `key=value` arguments.

Recordings, reports and the headless commands show command lines (perftui's own, and the
attached process tree's), and they are meant to be pasted into tickets. What looks like a secret
becomes `[REDACTED]`:

- a flag naming a secret, its value the next argument or after `=`: a flag one of whose words
  (split at `-`, `_` and camelCase humps, any case) is password, passwd, passphrase, pass, pwd, pw,
  secret, token, auth, authorization, bearer, cookie, session, credential(s), apikey, or ends in
  password, passwd, passphrase, secret or token (`PGPASSWORD`, `csrftoken`), or whose last word is
  `key` or ends in `key` (`--api-key`, `--apiKey`, `--secret-key`, `--hmac-key`, `--key`) or is `pat`
  (`--github-pat`): `--password X`, `--accessToken X`, `--clientSecret=X`, `--session-id X`;
  when the value is `Bearer` or `Basic` (`--auth Bearer X`, `--auth=Bearer X`: the token is the
  next argument), the argument after it goes too;
- `Bearer X` anywhere (also as two arguments, `Bearer` then `X`) and `Basic X` (X 8 or more base64
  characters, not all lower case), and the whole value of an `Authorization`, `Proxy-Authorization`,
  `Cookie`, `Set-Cookie`, `X-Api-Key` or `X-Auth-Token` header;
- `name=value` whose name (any case; words split at `_`, `-`, `.` and camelCase humps) is a secret
  name as above, or ends in KEY or PAT: `AWS_SECRET_ACCESS_KEY=`, `HF_TOKEN=`, `PGPASSWORD=`,
  `GITHUB_PAT=`, `db.password=`, `dbPassword=`, `client_secret=`; the value runs to the next blank
  or quote (inside a URL's query: to `&`/`#`);
- signed-URL query parameters: `sig`, `signature`, `X-Amz-Signature`, `X-Amz-Credential`,
  `X-Amz-Security-Token`, `X-Goog-Signature`, `X-Goog-Credential`, `access_token`, `code`;
- a JSON (or Python-literal) pair whose key is a secret name as above: `"password": "X"`;
- URL credentials: `scheme://user:pass@host` becomes `scheme://[REDACTED]@host`, up to the last
  `@` before the first `/` (a password holding `@` is hidden whole).

It errs on the side of redacting (`SORT_KEY=name` and the argument after `--no-auth` are
redacted too). Not redacted: short flags and attached values (`-p VALUE`, `-pVALUE`, `-u user:pw`):
too many tools use them for ports and paths; positional secrets (`mysql db user hunter2`); a
secret in a file name; values under names that say nothing (`--db-url postgres://host` is kept
apart from its credentials). The module is pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

REDACTED = "[REDACTED]"

_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "pass",
        "pwd",
        "pw",
        "secret",
        "secrets",
        "token",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "cookies",
        "session",
        "credential",
        "credentials",
        "apikey",
        "sig",
        "signature",
    }
)
# a word that ends in one of these names a secret too: PGPASSWORD, dbpasswd, CSRFTOKEN, clientsecret
_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token")
_SPLIT = re.compile(r"[-_.]+")
# camelCase and PascalCase words: accessToken, clientSecret, PGPassword (-> PG Password)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def is_secret_name(name: str) -> bool:
    """True for a flag, variable, header or JSON key that names a secret (see the module doc)."""
    words = [w for w in _SPLIT.split(_CAMEL.sub("_", name.lstrip("-")).lower()) if w]
    if not words:
        return False
    last = words[-1]
    return (
        any(w in _WORDS or w.endswith(_SUFFIXES) for w in words)
        or last.endswith("key")
        or (last == "pat" and len(words) > 1)
        or (last == "code" and len(words) == 1)
    )


_FLAG = re.compile(r"^(--?[A-Za-z][A-Za-z0-9_-]*)$")
_FLAG_EQ = re.compile(r"^(--?[A-Za-z][A-Za-z0-9_-]*)=(.*)$", re.DOTALL)
_VALUE = r"(\"[^\"]*\"|'[^']*'|[^\s\"']+)"
# a flag inside free text (a shell string such as `sh -c "tool --token abc"`)
_FLAG_IN_TEXT = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9_-]*)(=|\s+)")
_VALUE_AT = re.compile(_VALUE)
_SCHEME_TOKEN = re.compile(
    # Basic: 8+ base64 characters, at least one not a lower-case letter ("Basic training" stays)
    r"\b([Bb]earer|BEARER)(\s+)[A-Za-z0-9._~+/=:-]+|\b(Basic|BASIC)(\s+)(?=[a-z]*[A-Z0-9+/=])[A-Za-z0-9+/=:]{8,}"
)
_HEADER = re.compile(
    r"\b((?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token)(\s*:\s*)([^\"'\n]+)",
    re.IGNORECASE,
)
_QUERY_PAIR = re.compile(r"([?&])([A-Za-z0-9_.-]+)=([^&#\s\"']*)")
_MAYBE = re.compile(r"[=:-]|bearer|basic", re.IGNORECASE)
_PAIR = re.compile(r"(?<![\w.&?-])([A-Za-z_][A-Za-z0-9_.-]*)=(\"[^\"]*\"|'[^']*'|[^\s\"']*)")
_JSON_PAIR = re.compile(r"([\"'])([^\"'\\]{1,64})\1(\s*:\s*)(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s]*@", re.IGNORECASE)
_SIGNED = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "access_token",
        "refresh_token",
        "id_token",
    }
)

_SCHEMES = ("bearer", "basic")
_COMMAND_KEYS = frozenset({"cmdline", "command_line", "command", "cmd", "argv", "args"})


def _redact_flags(text: str) -> str:
    """`--secret-flag VALUE` inside free text; other flags' values stay (and are searched too)."""
    parts: list[str] = []
    at = 0
    for m in _FLAG_IN_TEXT.finditer(text):
        if m.start() < at or not is_secret_name(m.group(1)):
            continue
        v = _VALUE_AT.match(text, m.end())
        if v is None:
            continue
        parts += [text[at : m.end()], REDACTED]
        at = v.end()
    return "".join(parts) + text[at:] if parts else text


def _query_sub(m: re.Match[str]) -> str:
    name = m.group(2)
    if is_secret_name(name) or name.lower() in _SIGNED:
        return f"{m.group(1)}{name}={REDACTED}"
    return m.group(0)


def _pair_sub(m: re.Match[str]) -> str:
    return f"{m.group(1)}={REDACTED}" if is_secret_name(m.group(1)) else m.group(0)


def _json_sub(m: re.Match[str]) -> str:
    if not is_secret_name(m.group(2)):
        return m.group(0)
    q = m.group(4)[0]
    return f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{q}{REDACTED}{q}"


def redact_text(text: str) -> str:
    """Redact secrets inside one string (an argument, or a whole shell command line)."""
    if _MAYBE.search(text) is None:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    out = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)
    out = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1) or m.group(3)}{m.group(2) or m.group(4)}{REDACTED}", out)
    out = _JSON_PAIR.sub(_json_sub, out)
    out = _QUERY_PAIR.sub(_query_sub, out)
    out = _redact_flags(out)
    return _PAIR.sub(_pair_sub, out)


def redact_argv(argv: Sequence[Any]) -> list[str]:
    """Redact an argument vector: a secret flag's next argument, `--flag=value`, and each argument."""
    out: list[str] = []
    hide_next = 0
    for raw in argv:
        arg = str(raw)
        if hide_next:
            out.append(REDACTED)
            # `--auth Bearer TOKEN`: the scheme word is not the secret, the word after it is
            hide_next = 1 if hide_next == 2 and arg.lower() in _SCHEMES else 0
            continue
        m = _FLAG.match(arg)
        if m and is_secret_name(m.group(1)):
            out.append(arg)
            hide_next = 2
            continue
        m = _FLAG_EQ.match(arg)
        if m and is_secret_name(m.group(1)):
            out.append(f"{m.group(1)}={REDACTED}")
            # `--auth=Bearer TOKEN` as two arguments: the token is the next one
            hide_next = 1 if m.group(2).strip().lower() in _SCHEMES else 0
            continue
        out.append(redact_text(arg))
        # `Bearer TOKEN` as two arguments (`Basic` only after a secret flag: it is also a word)
        hide_next = 1 if arg.strip().lower() == "bearer" or arg.lower().endswith(": bearer") else 0
    return out


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact a JSON-like value: lists under a command key as argv, every other string as text,
    and the value under a secret-named key whole. Walked with an explicit stack (no recursion)."""
    root: list[Any] = [None]
    stack: list[tuple[Any, str | None, Any, Any]] = [(value, key, root, 0)]
    while stack:
        v, k, dst, slot = stack.pop()
        if isinstance(v, str):
            dst[slot] = REDACTED if k is not None and is_secret_name(k) and v else redact_text(v)
        elif isinstance(v, Mapping):
            out: dict[Any, Any] = {}
            dst[slot] = out
            for kk, vv in v.items():
                out[kk] = None
                stack.append((vv, str(kk), out, kk))
        elif isinstance(v, (list, tuple)):
            if k is not None and k.lower() in _COMMAND_KEYS and all(isinstance(x, str) for x in v):
                dst[slot] = redact_argv(v)
                continue
            items: list[Any] = [None] * len(v)
            dst[slot] = items
            for i, vv in enumerate(v):
                stack.append((vv, None, items, i))
        else:
            dst[slot] = v
    return root[0]
