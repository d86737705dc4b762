"""Dashboard CPU and RSS beside another source tree of perftui and a bare Textual app, alternating.

For a change measured on a shared VM whose speed drifts: the tools alternate within each round (the
order rotates), each alone in a detached tmux for --duration s after --warmup s; medians per tool.
`--before DIR` is a perftui source tree (e.g. `git archive REV | tar -x -C DIR`).

    .venv/bin/python benchmarks/cpu_beside.py --before DIR [--rounds 3] [--duration 30] [--size 200x50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from first_frame import perftui_from
from monitors.session import run_session
from monitors.tools import bare_textual, perftui


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--size", default="200x50")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    tools = [perftui(1.0), perftui_from(args.before), bare_textual()]
    got: dict[str, list[tuple[float, float]]] = {t.name: [] for t in tools}
    for r in range(args.rounds):
        for tool in tools[r % 3 :] + tools[: r % 3]:
            res = run_session(tool, w, h, duration=args.duration, warmup=args.warmup, presses=0)
            if res.cpu_pct is not None and res.rss_bytes is not None:
                got[tool.name].append((res.cpu_pct, res.rss_bytes / 1e6))
            print(f"round {r + 1}: {tool.name}: CPU {res.cpu_pct} % RSS {res.rss_bytes}", flush=True)
    out = {
        name: {
            "cpu_pct_median": statistics.median(c for c, _ in vals) if vals else None,
            "cpu_pct_all": [round(c, 3) for c, _ in vals],
            "rss_mb_median": statistics.median(m for _, m in vals) if vals else None,
        }
        for name, vals in got.items()
    }
    text = json.dumps({"size": args.size, "rounds": args.rounds, "tools": out}, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
