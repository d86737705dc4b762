"""Secrets in command lines and environment-style arguments never reach recordings or reports."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perftui.core.redact import REDACTED, redact_argv, redact_text, redact_value
from perftui.report.build import build_report
from perftui.report.render_html import render_html
from perftui.report.render_json import render_json
from perftui.report.render_md import render_markdown
from perftui.store.metric_store import MetricStore
from perftui.store.reader import open_recording
from perftui.store.recorder import Recorder
from perftui.store.recording_meta import system_metadata

SECRETS = ("hunter2", "s3cr3t-tok", "AKIAXYZ", "hf_abcdef", "pa55word", "ghp_tok", "sekrit")
SECRET_ARGV = [
    "python",
    "train.py",
    "--password",
    "hunter2",
    "--token=s3cr3t-tok",
    "AWS_SECRET_ACCESS_KEY=AKIAXYZ",
    "HF_TOKEN=hf_abcdef",
    "--db-url",
    "postgresql://alice:pa55word@db.internal:5432/x",
    "https://ghp_tok@github.com/org/repo.git",
    "--api-key",
    "sekrit",
    "--lr",
    "0.1",
]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--password", "X", "--lr", "1"], ["--password", REDACTED, "--lr", "1"]),
        (["--password=X"], [f"--password={REDACTED}"]),
        (["--token", "X"], ["--token", REDACTED]),
        (["--token=X"], [f"--token={REDACTED}"]),
        (["--DB-Password", "X"], ["--DB-Password", REDACTED]),
        (["--auth-token=X", "--secret", "Y"], [f"--auth-token={REDACTED}", "--secret", REDACTED]),
        (["--api_key", "X", "--access-key=Y"], ["--api_key", REDACTED, f"--access-key={REDACTED}"]),
        (["OPENAI_API_KEY=X"], [f"OPENAI_API_KEY={REDACTED}"]),
        (["GITHUB_TOKEN=X", "MY_SECRET=Y"], [f"GITHUB_TOKEN={REDACTED}", f"MY_SECRET={REDACTED}"]),
        (["PASSWORD=X", "PATH=/usr/bin"], [f"PASSWORD={REDACTED}", "PATH=/usr/bin"]),
        (["s3://user:pw@bucket/k"], [f"s3://{REDACTED}@bucket/k"]),
        (["https://tok@host/x"], [f"https://{REDACTED}@host/x"]),
        (["https://host/x?a=1", "--keys", "3"], ["https://host/x?a=1", "--keys", "3"]),
        (["--password"], ["--password"]),  # nothing follows: nothing to hide
        (["--auth=Bearer", "X", "--lr", "1"], [f"--auth={REDACTED}", REDACTED, "--lr", "1"]),
        (["--auth=Basic", "X", "Y"], [f"--auth={REDACTED}", REDACTED, "Y"]),
        (["--auth=none", "X"], [f"--auth={REDACTED}", "X"]),  # no scheme: the value was the secret
        (["Bearer", "X", "Y"], ["Bearer", REDACTED, "Y"]),
        (["PGPASSWORD=X", "MYSQL_PWD=Y"], [f"PGPASSWORD={REDACTED}", f"MYSQL_PWD={REDACTED}"]),
        (
            ["--accessToken", "X", "--clientSecret=Y"],
            ["--accessToken", REDACTED, f"--clientSecret={REDACTED}"],
        ),
        (["--maxTokens", "512", "--numWorkers", "2"], ["--maxTokens", "512", "--numWorkers", "2"]),
        (
            ["torchrun", "--nproc-per-node=8", "-p", "29500"],
            ["torchrun", "--nproc-per-node=8", "-p", "29500"],
        ),
    ],
)
def test_redact_argv(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected


def test_redact_text_inside_a_shell_string() -> None:
    text = "sh -c 'tool --password hunter2 --token=\"a b\" X_TOKEN=abc https://u:p@h/ ok=1'"
    out = redact_text(text)
    for secret in ("hunter2", '"a b"', "abc", "u:p"):
        assert secret not in out
    assert out.count(REDACTED) == 4 and "ok=1" in out and out.startswith("sh -c 'tool --password ")


def test_redact_value_walks_process_tables() -> None:
    tree = [{"pid": 1, "cmdline": ["app", "--token", "T"], "name": "app"}, {"pid": 2, "cmdline": []}]
    out = redact_value({"proc.tree": tree}, None)
    assert out["proc.tree"][0]["cmdline"] == ["app", "--token", REDACTED]
    assert out["proc.tree"][0]["pid"] == 1 and out["proc.tree"][1]["cmdline"] == []
    assert redact_value(3.5) == 3.5 and redact_value(None) is None


def _record(path: Path, argv: list[str]) -> None:
    store = MetricStore()
    rec = Recorder(path, store, meta=system_metadata(argv, 1.0), autoflush=False)
    rec.start()
    now = time.time()
    for i in range(3):
        store.append(now + i, {"cpu.util": 10.0 + i, "proc.cpu": 50.0}, source="cpu")
    info = {"pid": 4242, "name": "python", "cmdline": SECRET_ARGV, "status": "running"}
    store.set_detail("proc.info", info)
    store.set_detail("proc.tree", [{**info, "cpu": 50.0, "rss": 1e9}])
    assert rec.flush()
    rec.set_meta("late", {"command_line": ["x", "--secret", "sekrit"]})
    assert rec.flush()
    rec.close()


def test_recorder_metadata_and_details_are_redacted(tmp_path: Path) -> None:
    path = tmp_path / "rec.sqlite"
    _record(path, SECRET_ARGV)
    raw = path.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    rec = open_recording(path)
    cmd = rec.meta["command_line"]
    assert cmd[:4] == ["python", "train.py", "--password", REDACTED]
    assert cmd[-2:] == ["--lr", "0.1"] and "postgresql://[REDACTED]@db.internal:5432/x" in cmd
    assert rec.details_at()["proc.info"]["cmdline"][3] == REDACTED


def test_reports_redact_recordings_made_before_redaction(tmp_path: Path) -> None:
    """An older file still holding secrets: md, html and json reports show none of them."""
    path = tmp_path / "old.sqlite"
    _record(path, ["perftui", "record"])
    with sqlite3.connect(path) as conn:  # write the secrets back the way an old recorder stored them
        conn.execute("UPDATE meta SET value = ? WHERE name = 'command_line'", (json.dumps(SECRET_ARGV),))
        info = {"pid": 4242, "name": "python", "cmdline": SECRET_ARGV}
        conn.execute("UPDATE details SET value = ? WHERE name = 'proc.tree'", (json.dumps([info]),))
    rec = open_recording(path)
    assert "hunter2" in rec.meta["command_line"]
    report = build_report(rec, diagnose=False)
    system = dict(report.system)
    assert system["Command line"].startswith(f"python train.py --password {REDACTED}")
    for text in (render_markdown(report), render_json(report), render_html(report)):
        for secret in SECRETS:
            assert secret not in text, secret
        assert REDACTED in text


def test_report_cli_output_has_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "rec.sqlite"
    _record(path, SECRET_ARGV)
    done = subprocess.run(
        [sys.executable, "-m", "perftui", "report", str(path), "--format", "json", "--no-diagnosis"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert REDACTED in done.stdout and not any(s in done.stdout for s in SECRETS)
