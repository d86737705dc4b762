"""Efficiency options shared by `report`, `compare` and `scaling`: MFU inputs and the GPU-hour price."""

from __future__ import annotations

import argparse

from perftui.core.cost import CostError, parse_price
from perftui.efficiency.mfu import MfuError, parse_params
from perftui.efficiency.summary import EfficiencyOptions


class OptionError(ValueError):
    """An efficiency option the user wrote that cannot be used (one line)."""


def add_efficiency_arguments(p: argparse.ArgumentParser, *, price: bool = True) -> None:
    g = p.add_argument_group("efficiency")
    g.add_argument(
        "--model-params",
        metavar="N",
        help="the model's parameter count (7e9, 70B) for MFU: model FLOPs/s ÷ the GPUs' dense BF16 peak",
    )
    g.add_argument(
        "--mfu-mode",
        choices=("train", "infer"),
        default="infer",
        help="FLOPs per token: train = 6·N (forward + backward), infer = 2·N (default)",
    )
    g.add_argument(
        "--tokens-metric",
        metavar="KEY",
        help="a recorded metric key giving tokens/s "
        "(default: serve.*.gen_tokens_per_s, then probe.tokens_per_s)",
    )
    if price:
        g.add_argument(
            "--gpu-hour-cost",
            metavar="PRICE",
            help="price of one GPU-hour (e.g. 2.50): cost per request and per 1K tokens",
        )


def efficiency_options(args: argparse.Namespace) -> EfficiencyOptions:
    """The options from parsed arguments; OptionError (one line) for a value that cannot be used."""
    try:
        params = parse_params(args.model_params) if getattr(args, "model_params", None) else None
        raw_price = getattr(args, "gpu_hour_cost", None)
        price = parse_price(str(raw_price)) if raw_price is not None else None
    except (MfuError, CostError) as exc:
        raise OptionError(str(exc)) from None
    return EfficiencyOptions(
        model_params=params,
        mfu_mode=getattr(args, "mfu_mode", None) or "infer",
        tokens_metric=getattr(args, "tokens_metric", None),
        price=price,
    )
