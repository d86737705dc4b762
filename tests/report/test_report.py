"""Reports of the fixture recordings: golden Markdown and JSON, self-contained HTML, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from perftui.diagnosis.model import VERDICT_CLASSES
from perftui.report.build import TimeRangeError, build_report, parse_time
from perftui.report.render_html import render_html
from perftui.report.render_json import render_json
from perftui.report.render_md import render_markdown
from perftui.store.reader import open_recording

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
RECORDINGS = FIXTURES / "recordings"
GOLDEN = HERE / "golden"
ROOT = HERE.parents[1]
PERFTUI = [sys.executable, "-m", "perftui"]
UPDATE = os.environ.get("PERFTUI_UPDATE_GOLDEN") == "1"

sys.path.insert(0, str(FIXTURES))
from bad_files import bad_files  # noqa: E402
from make_recordings import write  # noqa: E402


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with PERFTUI_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def _report(name: str = "base.sqlite"):  # type: ignore[no-untyped-def]
    # The recorded diagnosis only: the engine's rules evolve on their own, the report layout here.
    return build_report(open_recording(RECORDINGS / name), diagnose=False)


def test_markdown_golden() -> None:
    _golden("base.md", render_markdown(_report()))


def test_json_golden_and_content() -> None:
    text = render_json(_report())
    _golden("base.json", text)
    data = json.loads(text)
    assert data["format"] == "perftui-report" and data["system"]["Host"] == "gpu-node-7"
    gpu = next(s for s in data["sources"] if s["source"] == "gpu")
    util = next(r for r in gpu["rows"] if r["key"] == "gpu.0.util")
    assert set(util["stats"]) >= {"mean", "p50", "p95", "p99", "p99.9", "max"}
    assert util["count"] == 120
    membw = next(s for s in data["sources"] if s["source"] == "membw")
    assert membw["available"] is False and "counters" in membw["reason"]
    assert [e["verdict"] for e in data["diagnosis"]["recorded"]] == ["io-bound", "compute-bound"]
    assert data["processes"][0]["rows"][0][0] == "4242"
    assert dict(data["category_shares"])["dataloader"] > 40
    assert data["charts"] and len(data["charts"][0]["offsets"]) == len(data["charts"][0]["values"])


def test_fixture_script_reproduces_the_committed_recordings(tmp_path: Path) -> None:
    fresh = write(tmp_path / "base.sqlite", fixed=False, seed=7)
    assert render_json(build_report(open_recording(fresh), diagnose=False)).replace(
        str(fresh.name), "x"
    ) == render_json(_report()).replace("base.sqlite", "x")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "data") and value:
                self.urls.append(value)


def test_html_is_self_contained() -> None:
    html = render_html(_report())
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert parser.tags.count("svg") == len(_report().charts) > 0
    assert "polyline" in parser.tags and "script" not in parser.tags
    assert parser.urls == []
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert "gpu.0.util" in html and "io-bound" in html


def test_diagnosis_is_recomputed_through_the_tracker() -> None:
    report = build_report(open_recording(RECORDINGS / "base.sqlite"))
    d = report.diagnosis
    assert d.recomputed is not None, d.note
    assert d.recomputed and all(r.verdict in VERDICT_CLASSES for r in d.recomputed)
    assert abs(sum(d.shares.values()) - 1.0) < 0.01
    assert [r.verdict for r in d.recorded] == ["io-bound", "compute-bound"]  # also shown as recorded


def test_time_window() -> None:
    rec = open_recording(RECORDINGS / "base.sqlite")
    assert rec.start is not None
    assert parse_time("30", rec.start) == rec.start + 30
    assert parse_time("2026-01-01T12:01:00Z", rec.start) == rec.start + 60
    with pytest.raises(TimeRangeError):
        parse_time("yesterday", rec.start)
    report = build_report(rec, rec.start + 30, rec.start + 59.5, diagnose=False)
    assert report.duration == 29.5
    row = next(r for s in report.sources for r in s.rows if r.key == "gpu.0.util")
    assert row.count == 30
    # The io-bound verdict (at +5 s) was in force when the window opened.
    assert [r.verdict for r in report.diagnosis.recorded] == []
    assert report.diagnosis.dominant == "io-bound"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PERFTUI, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_cli_formats_and_outputs(tmp_path: Path) -> None:
    base = str(RECORDINGS / "base.sqlite")
    md = _cli("report", base, "--no-diagnosis")
    assert md.returncode == 0 and md.stdout == render_markdown(_report())
    out = tmp_path / "r.json"
    done = _cli("report", base, "-o", str(out), "--from", "10", "--to", "20", "--no-diagnosis")
    assert done.returncode == 0 and str(out) in done.stderr
    assert json.loads(out.read_text())["duration"] == 10
    html = _cli("report", base, "--format", "html", "--diagnosis-step", "5", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    assert (tmp_path / "base.html").read_text().startswith("<!DOCTYPE html>")
    assert "base.html" in html.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--from", "soon"), "cannot read time"),
        (("--from", "60", "--to", "30"), "before --from"),
        (("--from", "500"), "no samples between"),
        (("--diagnosis-step", "0"), "--diagnosis-step"),
    ],
)
def test_cli_bad_ranges(args: tuple[str, ...], needle: str) -> None:
    done = _cli("report", str(RECORDINGS / "base.sqlite"), *args)
    assert done.returncode == 2 and needle in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_cli_bad_files_exit_2_with_one_line(tmp_path: Path) -> None:
    for name, (path, needle) in bad_files(tmp_path).items():
        cmds = [("report", str(path))]
        if name in ("foreign", "truncated"):
            cmds.append(("compare", str(RECORDINGS / "base.sqlite"), str(path)))
        for cmd in cmds:
            done = _cli(*cmd)
            assert done.returncode == 2, (name, cmd, done.stderr)
            assert done.stderr.startswith("perftui: error: ") and needle in done.stderr, (name, done.stderr)
            assert done.stderr.count("\n") == 1 and done.stdout == "", name


def test_unwritable_output(tmp_path: Path) -> None:
    done = _cli("report", str(RECORDINGS / "base.sqlite"), "-o", str(tmp_path / "nodir" / "r.md"))
    assert done.returncode == 1 and "cannot write" in done.stderr and done.stderr.count("\n") == 1
