"""From the command line to a probe plan: the target, the loads (a sweep has several), the budgets.

Everything a user can get wrong is found here, before anything is sent: a malformed URL, a rate
that is not positive or over `--max-rate`, both `--rate` and `--concurrency`, an unreadable body,
header or prompts file. Each raises OptionError with one line for the user.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from perftui.core.redact import REDACTED, redact_text
from perftui.core.slo import Budget, SloError, budgets_for, parse_seconds
from perftui.probe.client import Load, Target
from perftui.probe.prompts import PATHS, Api, BodyMaker, PromptError, load_prompts
from perftui.probe.sweep import parse_list

DEFAULT_DURATION_S = 10.0
DEFAULT_MAX_RATE = 1000.0
MAX_CONCURRENCY = 1000


class OptionError(ValueError):
    """One line for the user; the command exits 2 and sends nothing."""


@dataclass(frozen=True)
class Plan:
    target: Target
    loads: tuple[Load, ...]
    budgets: tuple[Budget, ...]
    shown_url: str  # the URL with any user-info redacted

    @property
    def streaming(self) -> bool:
        return self.target.api is not None


def _url(text: str, openai: str | None) -> tuple[str, Api | None]:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(f"not an http(s) URL: {redact_text(text)!r} (example: http://127.0.0.1:8080/)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise OptionError(f"bad port in URL {redact_text(text)!r}") from None
    if openai is None:
        return text, None
    path = parts.path.rstrip("/")
    api: Api
    if path.endswith("/chat/completions"):
        api = "chat"
    elif path.endswith("/completions"):
        api = "completions"
    else:  # a base URL (`http://host:8080` or `…/v1`): the endpoint is added
        api = "chat" if openai == "chat" else "completions"
        path = (path[: -len("/v1")] if path.endswith("/v1") else path) + PATHS[api]
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), api


def _headers(args: argparse.Namespace) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = list(args.header or [])
    if args.header_file:
        try:
            lines += Path(args.header_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise OptionError(f"cannot read header file {args.header_file}: {why}") from None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise OptionError("a header must look like 'Name: value' (its value is not shown)")
        out[name.strip()] = value.strip()
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise OptionError(f"--api-key-env: the environment variable {args.api_key_env} is not set")
        out["Authorization"] = f"Bearer {key}"
    return out


def _loads(args: argparse.Namespace) -> tuple[Load, ...]:
    if args.rate is not None and args.concurrency is not None:
        raise OptionError("give --rate (open loop) or --concurrency (closed loop), not both")
    if args.duration is not None and args.requests is not None:
        raise OptionError("give --duration or --requests, not both")
    for name in ("duration", "warmup", "timeout"):
        value = getattr(args, name)
        if value is not None and not (value > 0 or (name == "warmup" and value == 0)):
            raise OptionError(f"--{name} must be more than 0 seconds")
    if args.requests is not None and args.requests <= 0:
        raise OptionError("--requests must be at least 1")
    if not args.max_rate > 0:
        raise OptionError("--max-rate must be more than 0")
    duration = args.duration if args.requests is None and args.duration is not None else None
    if args.requests is None and duration is None:
        duration = DEFAULT_DURATION_S
    base = Load(
        arrivals=args.arrivals,
        duration=duration,
        requests=args.requests,
        warmup=args.warmup,
        timeout=args.timeout,
        seed=args.seed,
    )
    try:
        if args.concurrency is not None:
            levels = parse_list(args.concurrency, integer=True)
        else:
            levels = parse_list(args.rate or "1", integer=False)
    except ValueError as exc:
        raise OptionError(f"--{'concurrency' if args.concurrency else 'rate'}: {exc}") from None
    if args.concurrency is not None:
        if max(levels) > MAX_CONCURRENCY:
            raise OptionError(f"--concurrency is at most {MAX_CONCURRENCY}")
        return tuple(replace(base, concurrency=int(c)) for c in levels)
    if max(levels) > args.max_rate:
        raise OptionError(
            f"--rate {max(levels):g} is over --max-rate {args.max_rate:g} (raise it if you mean it)"
        )
    return tuple(replace(base, rate=r, connections=max(base.connections, 1)) for r in levels)


def _budgets(args: argparse.Namespace, streaming: bool) -> tuple[Budget, ...]:
    try:
        explicit = {
            m: parse_seconds(v) if v is not None else None
            for m, v in (("ttft", args.slo_ttft_p99), ("itl", args.slo_itl_p99), ("e2e", args.slo_e2e_p99))
        }
        if not streaming and (explicit["ttft"] is not None or explicit["itl"] is not None):
            raise OptionError("--slo-ttft-p99 and --slo-itl-p99 need --openai (a stream); use --slo-e2e-p99")
        return budgets_for(
            args.slo,
            streaming=streaming,
            ttft_p99_s=explicit["ttft"],
            itl_p99_s=explicit["itl"],
            e2e_p99_s=explicit["e2e"],
        )
    except SloError as exc:
        raise OptionError(str(exc)) from None


def _positive(name: str, value: int) -> int:
    if value <= 0:
        raise OptionError(f"--{name} must be at least 1")
    return value


def build_plan(args: argparse.Namespace) -> Plan:
    """Check everything and read every file; OptionError (one line) when something is wrong."""
    if args.chat and not args.openai:
        raise OptionError("--chat needs --openai")
    url, api = _url(args.url, ("chat" if args.chat else "auto") if args.openai else None)
    loads = _loads(args)
    headers = _headers(args)
    body: bytes | None = None
    if args.body:
        if api is not None:
            raise OptionError("--body is for plain HTTP; with --openai use --prompts FILE")
        try:
            body = Path(args.body).read_bytes()
        except OSError as exc:
            raise OptionError(f"cannot read body file {args.body}: {exc.strerror or exc}") from None
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = (
                "application/json" if args.body.endswith(".json") else "application/octet-stream"
            )
    bodies = None
    if api is not None:
        prompts = None
        if args.prompts:
            try:
                prompts = load_prompts(args.prompts)
            except PromptError as exc:
                raise OptionError(str(exc)) from None
        bodies = BodyMaker(
            api,
            model=args.model,
            input_tokens=_positive("input-tokens", args.input_tokens),
            output_tokens=_positive("output-tokens", args.output_tokens),
            prompts=prompts,
        )
    elif args.prompts:
        raise OptionError("--prompts needs --openai")
    method = (args.method or ("POST" if body is not None or api is not None else "GET")).upper()
    target = Target(url, method, headers, body, api, bodies)
    return Plan(target, loads, _budgets(args, api is not None), redact_text(url))


def redacted_argv(argv: list[str]) -> list[str]:
    """perftui's own command line with every header value hidden (recordings and reports)."""
    out: list[str] = []
    hide = False
    for arg in argv:
        if hide:
            name = arg.partition(":")[0]
            out.append(f"{name}: {REDACTED}")
            hide = False
        elif arg in ("-H", "--header"):
            out.append(arg)
            hide = True
        elif arg.startswith("--header="):
            out.append(f"--header={arg[9:].partition(':')[0]}: {REDACTED}")
        elif arg.startswith("-H") and len(arg) > 2:
            out.append(f"-H{arg[2:].partition(':')[0]}: {REDACTED}")
        else:
            out.append(redact_text(arg))
    return out
