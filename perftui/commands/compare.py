"""`perftui compare BASE NEW`: what improved, what regressed, what is within noise.

As a CI gate: `--fail-on-regression` exits 1 when a key metric regressed beyond the noise rule,
`--budgets FILE` exits 1 when NEW breaks a budget (report/budgets.py describes the file).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from perftui.commands.common import error
from perftui.commands.efficiency_args import OptionError, add_efficiency_arguments, efficiency_options
from perftui.store.reader import RecordingError, open_recording


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", metavar="BASE", help="the recording before the change")
    p.add_argument("new", metavar="NEW", help="the recording after the change")
    p.add_argument(
        "--format", choices=("md", "json", "html"), default="md", help="md (default), json or html (one file)"
    )
    p.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a key metric regressed beyond the noise rule (a CI gate)",
    )
    p.add_argument(
        "--budgets",
        metavar="FILE",
        help="TOML file of [[budget]] tables (metric, limit, direction lower|higher, stat): exit 1 "
        "when NEW breaks one",
    )
    add_efficiency_arguments(p, price=False)  # --model-params: an Efficiency section with both runs' MFU


def run(args: argparse.Namespace) -> int:
    from perftui.report.budgets import BudgetError, check_budgets, load_budgets

    try:
        options = efficiency_options(args)
        budgets = load_budgets(args.budgets) if args.budgets else []
        base = open_recording(args.base)
        new = open_recording(args.new)
    except (RecordingError, BudgetError, OptionError) as exc:
        return error(str(exc))
    for rec in (base, new):
        if rec.samples == 0:
            return error(f"{rec.path}: the recording holds no samples")
    from perftui.efficiency.recording import recording_efficiency, with_efficiency
    from perftui.report.compare import compare, regressions
    from perftui.report.render_compare import render_compare_json, render_compare_markdown

    result = compare(base, new)
    eff = None
    if options.model_params is not None:  # MFU as `report` computes it, over each whole run
        eff = (recording_efficiency(base, options), recording_efficiency(new, options))
    checked = check_budgets(budgets, with_efficiency(new).series) if budgets else []
    regressed = regressions(result) if args.fail_on_regression else []
    if args.format == "json":
        data = json.loads(render_compare_json(result, eff))
        if args.budgets:
            data["budgets"] = [
                {"key": r.key, "value": r.value, "ok": r.ok, **asdict(r.budget)} for r in checked
            ]
        data["gate"] = {
            "regressed": [m.key for m in regressed],
            "budgets_broken": sum(not r.ok for r in checked),
        }
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif args.format == "html":
        from html import escape

        from perftui.report.render_compare_html import render_compare_html

        text = render_compare_html(result, eff)
        if checked:
            items = "".join(f"<li>{escape(r.text)}</li>" for r in checked)
            text = text.replace("</body></html>", f"<h2>Budgets (NEW)</h2><ul>{items}</ul></body></html>")
    else:
        text = render_compare_markdown(result, eff)
        if checked:
            text += "\n## Budgets (NEW)\n\n" + "".join(f"- {r.text}\n" for r in checked)
    sys.stdout.write(text)
    failed = False
    for m in regressed:
        delta = m.shown.get("delta_pct", "")
        print(f"perftui: regressed: {m.key} median {m.shown['base_p50']} → {m.shown['new_p50']} ({delta})",
              file=sys.stderr)  # fmt: skip
        failed = True
    for r in checked:
        if not r.ok:
            print(f"perftui: budget broken: {r.text}", file=sys.stderr)
            failed = True
    return 1 if failed else 0
