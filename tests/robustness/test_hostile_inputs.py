"""Files that are not files, CLI edges, the secret forms people type, and standing fuzz tests of
the sanitizer, the redactor and the config/theme loaders (Hypothesis, a few seconds each)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perftui.cli import main
from perftui.config import MAX_FILE_BYTES, Config, ConfigError, load_config
from perftui.core.redact import REDACTED, redact_argv, redact_text, redact_value
from perftui.core.sanitize import NAME_MAX, TooDeep, clean, clean_tree
from perftui.ui.themes import ThemeError, load_theme_file
from tests.fixtures.bad_files import FIXTURES
from tests.fixtures.hostile import raw_controls_in

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- files that are not files --------------------------------------------------------------------
def _in_thread(fn: object, timeout: float = 10.0) -> object:
    """Run `fn` with a deadline: a blocking open of a FIFO fails the test instead of hanging it."""
    box: list[object] = []
    t = threading.Thread(target=lambda: box.append(_call(fn)), daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "blocked"
    return box[0]


def _call(fn: object) -> object:
    try:
        return fn()  # type: ignore[operator]
    except Exception as exc:  # the test looks at what came back
        return exc


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "directory", "too_big"])
def test_config_and_theme_must_be_small_regular_files(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_text("# " + "x" * MAX_FILE_BYTES + "\n")
    cfg = _in_thread(lambda: load_config(path))
    assert isinstance(cfg, ConfigError) and len(str(cfg).splitlines()) == 1, cfg
    theme = _in_thread(lambda: load_theme_file(path))
    assert isinstance(theme, ThemeError) and len(str(theme).splitlines()) == 1, theme


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000,
        "interval = " + "9" * 4400,
        "interval = inf",
        "interval = nan",
        "window = " + "9" * 4000,
        "\x1b]0;x\x07 = 1",
        "theme = 1\xff",
    ],
    ids=["deep", "4400-digit", "inf", "nan", "4000-digit", "escape-key", "not-utf8"],
)
def test_parser_failures_are_the_one_line_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert len(str(err.value).splitlines()) == 1 and not raw_controls_in(str(err.value))
    with pytest.raises(ThemeError):
        load_theme_file(path)


def test_report_output_fifo_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "out.md"
    os.mkfifo(fifo)
    code = _in_thread(
        lambda: main(["report", str(FIXTURES / "base.sqlite"), "-o", str(fifo), "--no-diagnosis"])
    )
    assert code == 1 and "not a regular file" in capsys.readouterr().err


def test_record_force_replaces_only_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "rec.sqlite"
    os.mkfifo(fifo)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "perftui",
            "record",
            "-o",
            str(fifo),
            "--force",
            "--duration",
            "1",
            "--no-gpu",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and fifo.exists() and not fifo.is_file()


# -- CLI edges -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "-1e308", "1e999"])
def test_report_from_to_non_finite_or_huge_is_one_line(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for flag in ("--from", "--to"):
        code = main(["report", str(FIXTURES / "base.sqlite"), f"{flag}={value}", "--no-diagnosis"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("perftui: error: "), err


@pytest.mark.parametrize("pid", ["١٢", "１２", " 12", "1_2", "+5", "0x10", "12\x1b[2J"])
def test_pid_accepts_ascii_digits_only(pid: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["snapshot", "--pid", pid])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and "invalid PID" in err[0] and "--help" in err[0]
    assert not raw_controls_in(err[0])


@pytest.mark.parametrize(
    "argv",
    [
        ["record", "--duration", "nan"],
        ["record", "--duration", "1e308"],
        ["snapshot", "--duration", "inf"],
        ["diagnose", "--interval", "nan"],
        ["replay", "x", "--speed", "nan"],
        ["report", "x", "--diagnosis-step", "inf"],
    ],
)
def test_non_finite_numbers_are_refused_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("perftui: error: "), err


# -- redaction: the forms people type --------------------------------------------------------------
SECRET_FORMS = [
    ["--secret-key=S3CR3T"],
    ["--secret-key", "S3CR3T"],
    ["--auth=Bearer S3CR3T"],
    ["--auth", "Bearer", "S3CR3T"],
    ["-H", "Authorization: Bearer S3CR3T"],
    ["--header=Authorization: Basic UzNDUjNUOng="],
    ["Authorization: Basic UzNDUjNUOng="],
    ["Cookie: session=S3CR3T; other=1"],
    ["--cookie", "S3CR3T"],
    ["--session-token", "S3CR3T"],
    ["--session", "S3CR3T"],
    ["--pass", "S3CR3T"],
    ["--pw=S3CR3T"],
    ["--hmac-key", "S3CR3T"],
    ["--github-pat", "S3CR3T"],
    ["GITHUB_PAT=S3CR3T"],
    ["HF_TOKEN=S3CR3T"],
    ["db.password=S3CR3T"],
    ["client_secret=S3CR3T"],
    ['{"password": "S3CR3T", "user": "bob"}'],
    ["{'api_key': 'S3CR3T'}"],
    ["--config", '{"auth": {"token": "S3CR3T"}}'],
    ["postgresql://alice:pa@S3CR3T@db:5432/x"],
    ["https://bucket.s3.amazonaws.com/k?X-Amz-Credential=S3CR3T&X-Amz-Signature=S3CR3T&X-Amz-Date=1"],
    ["https://acct.blob.core.windows.net/c/b?sv=2020&sig=S3CR3T"],
    ["https://h/cb?code=S3CR3T&state=1"],
    ["https://h/x?access_token=S3CR3T"],
    ["sh", "-c", "curl -H 'Authorization: Bearer S3CR3T' https://api && tool --api-key=S3CR3T"],
    ["env", "AWS_SECRET_ACCESS_KEY=S3CR3T", "python", "x.py"],
    ["--password", "S3CR3T"],
    ["--auth=Bearer", "S3CR3T"],  # one token, two arguments
    ["--auth=Basic", "UzNDUjNUOng="],
    ["curl", "-H", "Authorization: Bearer", "S3CR3T"],
    ["Bearer", "S3CR3T"],
    ["PGPASSWORD=S3CR3T"],  # a name ending in a secret word
    ["env", "MYSQLPASSWD=S3CR3T", "CSRFTOKEN=S3CR3T", "APPSECRET=S3CR3T", "psql"],
    ["--accessToken", "S3CR3T"],  # camelCase flags
    ["--clientSecret=S3CR3T"],
    ["--apiKey", "S3CR3T"],
    ["PGPassword=S3CR3T"],
    ['{"accessToken": "S3CR3T", "userName": "bob"}'],
]


@pytest.mark.parametrize("argv", SECRET_FORMS, ids=lambda a: " ".join(a)[:40])
def test_secret_forms_are_redacted(argv: list[str]) -> None:
    out = redact_argv(argv)
    assert "S3CR3T" not in " ".join(out) and REDACTED in " ".join(out), out
    assert "S3CR3T" not in str(redact_value({"cmdline": argv, "note": " ".join(argv)}))


@pytest.mark.parametrize(
    "argv",
    [
        ["torchrun", "--nproc-per-node=8", "-p", "29500", "train.py", "--lr=0.1", "--keys", "3"],
        ["python", "-m", "x", "--batch-size", "32", "https://host/a?b=1&c=2"],
        ["echo", "Basic training loop"],
        ["vllm", "--maxTokens", "512", "--tokenizer", "gpt2", "--max-new-tokens", "4", "--numWorkers", "2"],
        ["python", "x.py", "--tokenizer-mode=auto", "PATH=/usr/bin", "--keys", "3"],
    ],
)
def test_ordinary_arguments_are_kept(argv: list[str]) -> None:
    assert redact_argv(argv) == argv


def test_what_is_not_redacted_is_as_documented() -> None:
    assert redact_argv(["mysql", "-p", "hunter2"]) == ["mysql", "-p", "hunter2"]
    assert redact_argv(["mysql", "-phunter2"]) == ["mysql", "-phunter2"]


def test_snapshot_json_with_pid_redacts_command_lines() -> None:
    code = "import time; time.sleep(60)"
    child = subprocess.Popen(
        [sys.executable, "-c", code, "--token", "S3CR3T", "Authorization: Bearer S3CR3T"]
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perftui",
                "snapshot",
                "--json",
                "--no-gpu",
                "--duration",
                "0.2",
                "--pid",
                str(child.pid),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        child.kill()
        child.wait()
    assert done.returncode == 0, done.stderr
    assert "S3CR3T" not in done.stdout and REDACTED in done.stdout


# -- standing fuzz tests ---------------------------------------------------------------------------
@FAST
@given(st.text(), st.integers(min_value=1, max_value=600))
def test_fuzz_clean_leaves_no_control_and_respects_the_cap(text: str, limit: int) -> None:
    out = clean(text, limit)
    assert not raw_controls_in(out) and "\n" not in out and "\t" not in out
    assert len(out) <= limit
    if text.isprintable() and len(text) <= limit:
        assert out == text


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@FAST
@given(_JSON)
def test_fuzz_clean_tree(value: object) -> None:
    import json

    out = clean_tree(value)
    assert not raw_controls_in(json.dumps(out, ensure_ascii=False).replace("\\", ""))


def test_clean_tree_refuses_deep_values_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TooDeep):
        clean_tree(deep)
    assert clean("x" * 10_000) == "x" * (NAME_MAX - 1) + "…"


@FAST
@given(
    st.lists(st.text(max_size=30), max_size=8),
    st.sampled_from(["--token", "--password", "--api-key", "--auth", "--accessToken", "--clientSecret"]),
)
def test_fuzz_redactor_hides_the_value_after_a_secret_flag(argv: list[str], flag: str) -> None:
    secret = "Zq9SECRETvalue"
    out = redact_argv([*argv, flag, secret])
    assert secret not in " ".join(out)
    assert secret not in redact_text(" ".join([*argv, f"{flag}={secret}"]))
    assert len(redact_argv(argv)) == len(argv)  # redaction never drops or adds arguments


@FAST
@given(
    st.lists(st.text(max_size=30), max_size=8),
    st.lists(st.text(max_size=30), max_size=4),
    st.sampled_from(["PGPASSWORD", "MYSQL_PWD", "dbPassword", "clientSecret", "CSRFTOKEN", "HF_TOKEN"]),
    st.sampled_from(["--auth=Bearer", "--token=Bearer", "--authorization=Basic", "Bearer"]),
)
def test_fuzz_redactor_hides_env_secrets_and_split_schemes(
    before: list[str], after: list[str], name: str, scheme: str
) -> None:
    """`NAME=secret` for names ending in a secret word or in camelCase, and a scheme word whose token
    is the next argument, wherever they sit among other arguments."""
    secret = "Zq9SECRETvalue"
    argv = [*before, f"{name}={secret}", *after, scheme, secret, *after]
    out = redact_argv(argv)
    assert secret not in " ".join(out), out
    assert len(out) == len(argv)
    assert secret not in str(redact_value({"cmdline": argv, "note": " ".join(argv)}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_fuzz_config_and_theme_loaders(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw)
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as exc:
        assert len(str(exc).splitlines()) == 1 and not raw_controls_in(str(exc))
    try:
        load_theme_file(path)
    except ThemeError as exc:
        assert len(str(exc).splitlines()) == 1 and not raw_controls_in(str(exc))
