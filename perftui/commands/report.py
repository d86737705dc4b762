"""`perftui report FILE`: system info, statistics, diagnosis timeline and charts of a recording."""

from __future__ import annotations

import argparse
import errno
import os
import stat
import sys
from pathlib import Path

from perftui.commands.common import error, finite_float
from perftui.commands.efficiency_args import OptionError, add_efficiency_arguments, efficiency_options
from perftui.report.build import TimeRangeError, build_report, parse_time
from perftui.report.model import Report
from perftui.report.text import iso
from perftui.store.reader import Recording, RecordingError, open_recording

FORMATS = ("md", "html", "json")
_EXT = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a recording made by `perftui record`")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write here (default: stdout; HTML goes to <FILE's name>.html in the current directory)",
    )
    p.add_argument(
        "--format", choices=FORMATS, help="md, html or json (default: from OUT's extension, else md)"
    )
    p.add_argument("--from", dest="t_from", metavar="T", help="start: seconds from the start, or an ISO time")
    p.add_argument("--to", dest="t_to", metavar="T", help="end: seconds from the start, or an ISO time")
    p.add_argument(
        "--diagnosis-step",
        type=finite_float,
        metavar="S",
        help="rerun the diagnosis every S seconds of recorded time (default: every second, coarser "
        "for long windows so a report stays fast; 1 = exactly as live)",
    )
    p.add_argument("--no-diagnosis", action="store_true", help="show the recorded diagnosis only")
    add_efficiency_arguments(p)


def _error(message: str) -> None:
    error(message)


def window(rec: Recording, t_from: str | None, t_to: str | None) -> tuple[float | None, float | None]:
    """Parse --from/--to against the recording; TimeRangeError when unusable."""
    start, end = rec.start, rec.end
    if start is None or end is None or rec.samples == 0:
        raise TimeRangeError("the recording holds no samples")
    t0 = parse_time(t_from, start) if t_from is not None else None
    t1 = parse_time(t_to, start) if t_to is not None else None
    lo, hi = (start if t0 is None else t0), (end if t1 is None else t1)
    if t0 is not None and t1 is not None and t1 < t0:
        raise TimeRangeError("--to is before --from")
    if rec.slice(lo, hi).samples == 0:
        raise TimeRangeError(
            f"no samples between {iso(lo)} and {iso(hi)} (the recording covers {iso(start)} → {iso(end)})"
        )
    return t0, t1


def render(report: Report, fmt: str) -> str:
    if fmt == "html":
        from perftui.report.render_html import render_html

        return render_html(report)
    if fmt == "json":
        from perftui.report.render_json import render_json

        return render_json(report)
    from perftui.report.render_md import render_markdown

    return render_markdown(report)


def write_text(path: Path, text: str) -> str | None:
    """Write `text` with the user's umask, never through a symlink; an error message on failure."""
    if path.is_symlink():
        return f"refusing to write {path}: it is a symbolic link"
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):  # a FIFO would block, a device be written
        return f"refusing to write {path}: it is not a regular file"
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        # non-blocking open: a FIFO put there after the check above fails instead of hanging
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0), 0o666)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return f"refusing to write {path}: it is not a regular file"
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink put there after the check above
            return f"refusing to write {path}: it is a symbolic link"
        if exc.errno == errno.ENXIO:  # a FIFO with no reader, put there after the check above
            return f"refusing to write {path}: it is not a regular file"
        return f"cannot write {path}: {exc.strerror or exc}"
    return None


def run(args: argparse.Namespace) -> int:
    fmt = args.format or (_EXT.get(Path(args.output).suffix.lower(), "md") if args.output else "md")
    try:
        rec = open_recording(args.file)
        t0, t1 = window(rec, args.t_from, args.t_to)
        options = efficiency_options(args)
    except (RecordingError, TimeRangeError, OptionError) as exc:
        _error(str(exc))
        return 2
    if args.diagnosis_step is not None and not (0.05 <= args.diagnosis_step <= 3600):
        _error("--diagnosis-step must be between 0.05 and 3600 seconds")
        return 2
    report = build_report(
        rec, t0, t1, diagnose=not args.no_diagnosis, diagnosis_step=args.diagnosis_step, efficiency=options
    )
    text = render(report, fmt)
    out = Path(args.output) if args.output else None
    if out is None and fmt == "html":
        out = Path(Path(args.file).stem + ".html")
    if out is None:
        sys.stdout.write(text)
        return 0
    problem = write_text(out, text)
    if problem:
        _error(problem)
        return 1
    print(f"perftui: wrote {fmt} report to {out}", file=sys.stderr)
    return 0
