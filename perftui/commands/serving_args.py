"""`--serve`, `--slo`, `--slo-*-p99`, `--gpu-hour-cost`, `--serve-gpus` and `[serving]` -> ServingOptions.

    [serving]
    urls = ["http://127.0.0.1:8000/metrics"]   # like --serve (CLI URLs are added)
    discover = true           # also find local servers (cmdline names one + listens on TCP; loopback only)
    slo = "chatbot"           # like --slo; ttft_p99 / itl_p99 / e2e_p99 = "200ms" like --slo-*-p99
    gpu_hour_cost = 2.5       # USD per GPU-hour, like --gpu-hour-cost
    gpus = 8                  # GPUs the price applies to, like --serve-gpus (default: a local server
                              # is costed on every GPU NVML sees on this host; a remote one needs it)
    window = 60               # seconds of the latency-quantile window
    server = "generic"        # optional: force a profile; "generic" uses [serving.generic]
    [serving.generic]         # perftui name -> the endpoint's sample name
    e2e = "train_step_seconds"
    requests = "train_samples_total"

Errors a user can cause are one line (ServeError/SloError/CostError messages) and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

_KEYS = {"urls", "discover", "slo", "ttft_p99", "itl_p99", "e2e_p99", "gpu_hour_cost", "gpus", "window"}
_KEYS |= {"server", "generic", "model_label"}
MAX_GPUS = 65536


def add_serving_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("serving (inference servers' /metrics)")
    g.add_argument(
        "--serve",
        action="append",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="scrape this Prometheus endpoint of an inference server (repeatable; host:port or URL)",
    )
    g.add_argument(
        "--serve-discover",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also find inference servers running on this host (probed once on 127.0.0.1)",
    )
    g.add_argument(
        "--slo", metavar="NAME", default=argparse.SUPPRESS, help="latency budget preset (chatbot, …)"
    )
    for m in ("ttft", "itl", "e2e"):
        g.add_argument(f"--slo-{m}-p99", metavar="S", default=argparse.SUPPRESS, help=f"P99 {m} budget")
    g.add_argument("--gpu-hour-cost", metavar="USD", default=argparse.SUPPRESS, help="price of one GPU-hour")
    g.add_argument(
        "--serve-gpus",
        metavar="N",
        default=argparse.SUPPRESS,
        help="GPUs the server runs on, for its cost (default: all the GPUs NVML sees on this host)",
    )


def _cfg_seconds(table: dict[str, Any], key: str) -> float | None:
    v = table.get(key)
    if v is None:
        return None
    from perftui.core.slo import parse_seconds

    return parse_seconds(str(v))


def _gpus(args: argparse.Namespace, t: dict[str, Any]) -> tuple[int | None, str]:
    """(GPU count, where it came from): --serve-gpus over `[serving] gpus`; None: the sampler counts."""
    from perftui.samplers.serving.errors import ServeError

    cli = getattr(args, "serve_gpus", None)
    if cli is not None:
        text = str(cli).strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_GPUS:
            raise ServeError(f"--serve-gpus takes a whole number of GPUs from 1 to {MAX_GPUS}, not {cli!r}")
        return int(text), "--serve-gpus"
    gpus = t.get("gpus")
    if gpus is None:
        return None, ""
    if isinstance(gpus, bool) or not isinstance(gpus, int) or not 1 <= gpus <= MAX_GPUS:
        raise ServeError(f"[serving]: gpus must be a whole number from 1 to {MAX_GPUS}, not {gpus!r}")
    return gpus, "[serving] gpus"


def serving_options(args: argparse.Namespace, table: dict[str, Any] | None = None) -> Any:
    """ServingOptions from the CLI over `[serving]`; None when nothing asks for serving; ValueError else."""
    # the source's modules (prometheus_client's parser, urllib.request: ~50 ms) load only when
    # serving is asked for: the dashboard's start-up path goes through here on every run
    from perftui.samplers.serving.errors import ServeError

    t = dict(table or {})
    unknown = sorted(set(t) - _KEYS)
    if unknown:
        raise ServeError(f"[serving]: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    urls = t.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ServeError("[serving]: urls must be a list of strings")
    urls = list(urls)
    urls += list(getattr(args, "serve", None) or [])
    discover = bool(getattr(args, "serve_discover", False) or t.get("discover", False))
    if not urls and not discover:
        return None
    from perftui.core.cost import parse_price
    from perftui.core.slo import parse_seconds, preset
    from perftui.samplers.serving.profiles import generic_profile
    from perftui.samplers.serving_source import ServingOptions, normalize_url

    urls = [normalize_url(u) for u in urls]
    slo = getattr(args, "slo", None) or t.get("slo")
    if slo is not None:
        preset(str(slo))
    budgets = {}
    for m in ("ttft", "itl", "e2e"):
        cli = getattr(args, f"slo_{m}_p99", None)
        budgets[m] = parse_seconds(cli) if cli is not None else _cfg_seconds(t, f"{m}_p99")
    cost = getattr(args, "gpu_hour_cost", None) or t.get("gpu_hour_cost")
    price = parse_price(str(cost)) if cost is not None else None
    gpus, gpus_from = _gpus(args, t)
    window = t.get("window", 60.0)
    if isinstance(window, bool) or not isinstance(window, (int, float)) or not 5 <= window <= 3600:
        raise ServeError(f"[serving]: window must be seconds between 5 and 3600, not {window!r}")
    profile = None
    if t.get("server") == "generic" or "generic" in t:
        mapping = t.get("generic")
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ServeError("[serving.generic] must map perftui names to metric names (strings)")
        profile = generic_profile(mapping, model_label=t.get("model_label"))
    elif t.get("server") is not None:
        from perftui.samplers.serving.profiles import PROFILES

        profile = next((p for p in PROFILES if p.server == t["server"]), None)
        if profile is None:
            known = ", ".join(dict.fromkeys(p.server for p in PROFILES))
            raise ServeError(f"[serving]: unknown server {t['server']!r} (known: {known}, generic)")
    return ServingOptions(
        urls=urls,
        slo=str(slo) if slo is not None else None,
        ttft_p99_s=budgets["ttft"],
        itl_p99_s=budgets["itl"],
        e2e_p99_s=budgets["e2e"],
        price=price,
        gpus=gpus,
        gpus_from=gpus_from,
        window_s=float(window),
        discover=discover,
        profile=profile,
    )


def serving_checked(args: argparse.Namespace) -> tuple[bool, Any]:
    """(ok, ServingOptions or None); on a bad value one line on stderr and ok=False (exit 2)."""
    from perftui.config import load_config

    try:
        table = load_config().serving
        return True, serving_options(args, table)
    except ValueError as exc:  # ConfigError, ServeError, SloError and CostError are ValueErrors
        print(f"perftui: error: {exc}", file=sys.stderr)
        return False, None
