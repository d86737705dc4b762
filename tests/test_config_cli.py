"""The dashboard reads the config file; a bad one is one line naming the key, exit 2."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli_run import perftui


def run_perftui(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return perftui(*args, env=dict(os.environ, PERFTUI_CONFIG=str(config)))


def test_unknown_key_in_config_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("intervall = 2\n")
    res = run_perftui(config=cfg)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown key 'intervall'" in lines[0] and str(cfg) in lines[0]


def test_wrong_type_in_config_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('window = "long"\n')
    res = run_perftui(config=cfg)
    assert res.returncode == 2
    assert "'window' must be a number" in res.stderr
    assert "Traceback" not in res.stderr


def test_config_theme_is_validated_like_the_flag(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('theme = "no-such-theme"\n')
    res = run_perftui(config=cfg)
    assert res.returncode == 2
    assert "unknown theme 'no-such-theme'" in res.stderr and "perftui-dark" in res.stderr


def test_flag_overrides_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('theme = "no-such-theme"\n')
    # a valid --theme wins over the config's bad one; then the missing terminal is the error
    res = run_perftui("--theme", "perftui-light", config=cfg)
    assert res.returncode == 2
    assert "needs a terminal" in res.stderr
