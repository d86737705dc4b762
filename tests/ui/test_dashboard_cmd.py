"""`perftui` dashboard options: bad input is one line on stderr and exit 2, before any UI starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli_run import perftui


def test_unknown_theme_lists_the_valid_names() -> None:
    res = perftui("--theme", "no-such-theme")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "unknown theme 'no-such-theme'" in lines[0]
    for name in ("perftui-dark", "perftui-light", "textual-dark", "nord"):
        assert name in lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--interval", "0"], "--interval must be between"),
        (["--interval", "100"], "--interval must be between"),
        (["--window", "5"], "--window must be between"),
    ],
)
def test_bad_values_exit_2(args: list[str], needle: str) -> None:
    res = perftui(*args)
    assert res.returncode == 2 and needle in res.stderr and "Traceback" not in res.stderr


def test_bad_type_is_a_usage_error() -> None:
    res = perftui("--interval", "fast")
    assert res.returncode == 2 and "(see `perftui --help`)" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_no_terminal_is_a_clear_error() -> None:
    res = perftui("--no-gpu")
    assert res.returncode == 2
    assert "needs a terminal" in res.stderr and "Traceback" not in res.stderr


def test_dashboard_options_parse_without_textual() -> None:
    code = (
        "import sys\n"
        "from perftui.cli import build_parser\n"
        "argv = ['--interval', '0.5', '--window', '300', '--theme', 'nord', '--no-gpu']\n"
        "a = build_parser().parse_args(argv)\n"
        "assert (a.interval, a.window, a.theme, a.no_gpu) == (0.5, 300.0, 'nord', True)\n"
        "assert 'textual' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_history_kept_is_the_longest_window_the_keys_offer() -> None:
    from perftui.core.limits import MAX_WINDOW, WINDOW_STEPS

    assert max(WINDOW_STEPS) == MAX_WINDOW
