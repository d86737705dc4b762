"""node_exporter's web-config file (exporter-toolkit format): TLS and basic auth for the exporter.

Supported: `tls_server_config.cert_file`/`key_file`, `client_ca_file` with `client_auth_type`
(`NoClientCert`, `RequireAndVerifyClientCert`, `VerifyClientCertIfGiven`), `min_version`/
`max_version` (TLS12, TLS13), and `basic_auth_users` (user: bcrypt hash, as `htpasswd -B` writes).
Refused with a clear message: `cipher_suites`, `curve_preferences`, `prefer_server_cipher_suites`,
`client_allowed_sans`, inline `cert`/`key`, and `http_server_config` (HTTP/2, headers). Reading the
file needs PyYAML; basic auth needs bcrypt (`pip install 'perftui[web-config]'`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TLS_KEYS = {"cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version", "max_version"}
_TLS_UNSUPPORTED = {
    "cert",
    "key",
    "cipher_suites",
    "curve_preferences",
    "prefer_server_cipher_suites",
    "client_allowed_sans",
}
_TOP_KEYS = {"tls_server_config", "basic_auth_users"}
_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


class WebConfigError(Exception):
    """A web-config file perftui cannot use; the message is one line for the user."""


@dataclass
class WebConfig:
    tls: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # user -> bcrypt hash

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = _VERSIONS[self.tls.get("min_version", "TLS12")]
        if "max_version" in self.tls:
            ctx.maximum_version = _VERSIONS[self.tls["max_version"]]
        try:
            ctx.load_cert_chain(self.tls["cert_file"], self.tls["key_file"])
            if "client_ca_file" in self.tls:
                ctx.load_verify_locations(self.tls["client_ca_file"])
        except (OSError, ssl.SSLError) as exc:
            raise WebConfigError(f"web-config: cannot load the TLS files: {exc}") from exc
        ctx.verify_mode = _CLIENT_AUTH[self.tls.get("client_auth_type", "NoClientCert")]
        if ctx.verify_mode != ssl.CERT_NONE and "client_ca_file" not in self.tls:
            raise WebConfigError("web-config: client_auth_type needs client_ca_file")
        return ctx

    def authenticator(self) -> Callable[[str | None], bool] | None:
        """A check of an `Authorization` header, or None when no users are configured."""
        if not self.users:
            return None
        return BasicAuth(self.users).check


class BasicAuth:
    """bcrypt is slow on purpose (~0.1-0.3 s): good credentials are remembered by their digest."""

    def __init__(self, users: dict[str, str]) -> None:
        import bcrypt

        self._bcrypt = bcrypt
        self._users = users
        self._good: set[bytes] = set()

    def check(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        hashed = self._users.get(user)
        if hashed is None:
            return False
        digest = hashlib.sha256(f"{user}\0{password}\0{hashed}".encode()).digest()
        if any(hmac.compare_digest(digest, good) for good in self._good):
            return True
        try:
            ok = bool(self._bcrypt.checkpw(password.encode(), hashed.encode()))
        except ValueError:
            return False
        if ok:
            self._good.add(digest)
        return ok


def _unknown(keys: Iterable[str], allowed: set[str], where: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise WebConfigError(f"web-config: unknown field {extra[0]!r} in {where}")


def parse_web_config(data: Any) -> WebConfig:
    if data is None:
        return WebConfig()
    if not isinstance(data, dict):
        raise WebConfigError("web-config: the file must hold a mapping")
    if "http_server_config" in data:
        raise WebConfigError("web-config: http_server_config is not supported by perftui")
    _unknown(data, _TOP_KEYS, "the file")
    tls_in = data.get("tls_server_config") or {}
    users_in = data.get("basic_auth_users") or {}
    if not isinstance(tls_in, dict) or not isinstance(users_in, dict):
        raise WebConfigError("web-config: tls_server_config and basic_auth_users must be mappings")
    for key in tls_in:
        if key in _TLS_UNSUPPORTED:
            raise WebConfigError(f"web-config: tls_server_config.{key} is not supported by perftui")
    _unknown(tls_in, _TLS_KEYS, "tls_server_config")
    tls = {str(k): str(v) for k, v in tls_in.items() if v not in (None, "")}
    if tls and not ("cert_file" in tls and "key_file" in tls):
        raise WebConfigError("web-config: tls_server_config needs both cert_file and key_file")
    for key in ("min_version", "max_version"):
        if key in tls and tls[key] not in _VERSIONS:
            raise WebConfigError(f"web-config: {key} must be TLS12 or TLS13, not {tls[key]!r}")
    if tls.get("client_auth_type", "NoClientCert") not in _CLIENT_AUTH:
        raise WebConfigError(f"web-config: unknown client_auth_type {tls['client_auth_type']!r}")
    users = {str(u): str(h) for u, h in users_in.items()}
    for user, hashed in users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise WebConfigError(f"web-config: the password of {user!r} is not a bcrypt hash")
    if users:
        try:
            import bcrypt  # noqa: F401
        except ImportError as exc:
            raise WebConfigError(
                "web-config: basic_auth_users needs bcrypt (pip install 'perftui[web-config]')"
            ) from exc
    return WebConfig(tls, users)


def load_web_config(path: str) -> WebConfig:
    try:
        yaml: Any = importlib.import_module("yaml")  # optional, untyped
    except ImportError as exc:
        raise WebConfigError("--web-config needs PyYAML (pip install 'perftui[web-config]')") from exc
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WebConfigError(f"cannot read --web-config {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WebConfigError(f"web-config {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    config = parse_web_config(data)
    config.ssl_context()  # load the certificates now: a bad file is an error at start
    return config
