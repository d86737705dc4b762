"""First frame and memory of perftui beside a bare Textual app, in alternating rounds.

The same sessions as run_all.py (benchmarks/monitors/session.py: a detached tmux, exec -> the
complete frame, RSS a few seconds in), only the start-up figures, so that a change to start-up can
be measured on a shared, noisy machine: tools alternate within each round (the order rotates), and
the result is the median per tool and the median of the per-round differences to the bare app.
`--before DIR` adds perftui run from another source tree (e.g. `git archive REV | tar -x -C DIR`).

    .venv/bin/python benchmarks/first_frame.py [--rounds 7] [--size 200x50] [--before DIR] [--out F]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from monitors.session import run_session
from monitors.tools import Tool, bare_textual, perftui

HERE = Path(__file__).resolve().parent


def perftui_from(src: Path, name: str = "perftui (before)") -> Tool:
    """perftui run from the source tree `src` (with this interpreter and its packages)."""
    compileall.compile_dir(src / "perftui", quiet=2, workers=0)
    base = perftui()
    argv = ("env", f"PYTHONPATH={src}", sys.executable, "-m", "perftui", *base.argv[1:])
    return Tool(name, argv, base.frame_markers, base.help_key, base.help_marker, base.close_key)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--size", default="200x50")
    ap.add_argument(
        "--before", type=Path, action="append", default=[], help="a perftui source tree (repeatable)"
    )
    ap.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    tools = [bare_textual(), perftui()]
    for src in args.before:
        name = "perftui (before)" if len(args.before) == 1 else f"perftui ({src.name})"
        tools.append(perftui_from(src.resolve(), name))
    frames: dict[str, list[float]] = {t.name: [] for t in tools}
    rss: dict[str, list[float]] = {t.name: [] for t in tools}
    gaps: dict[str, list[float]] = {t.name: [] for t in tools[1:]}
    for r in range(args.rounds):
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        got: dict[str, float] = {}
        for tool in order:
            res = run_session(tool, width, height, duration=0.5, warmup=2.5, presses=0)
            if res.first_frame_s is None:
                print(f"# {tool.name}: {res.error}", file=sys.stderr)
                continue
            got[tool.name] = res.first_frame_s
            frames[tool.name].append(res.first_frame_s)
            if res.rss_bytes:
                rss[tool.name].append(res.rss_bytes / 1e6)
        bare = got.get(tools[0].name)
        for name in gaps:
            if bare is not None and name in got:
                gaps[name].append(got[name] - bare)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.3f} s" for k, v in got.items()), flush=True)
    summary: dict[str, Any] = {
        "size": args.size,
        "rounds": args.rounds,
        "load_average": os.getloadavg()[0],
        "tools": {
            name: {
                "first_frame_s_median": statistics.median(v) if v else None,
                "first_frame_s_all": [round(x, 3) for x in v],
                "rss_mb_median": statistics.median(rss[name]) if rss[name] else None,
                "gap_to_bare_s_median": statistics.median(gaps[name]) if gaps.get(name) else None,
            }
            for name, v in frames.items()
        },
    }
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
