from pathlib import Path

import pytest

from perftui.config import Config, ConfigError, config_path, load_config, validate


def test_defaults_need_no_file(tmp_path: Path) -> None:
    assert load_config(tmp_path / "missing.toml") == Config()


def test_file_values_and_cli_overrides(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('interval = 0.5\ntheme = "perftui-light"\ngpu = false\nwindow = 300\n')
    cfg = load_config(p)
    assert cfg == Config(interval=0.5, window=300.0, theme="perftui-light", gpu=False)
    assert cfg.merged(interval=2.0, theme=None).interval == 2.0
    assert cfg.merged(interval=2.0, theme=None).theme == "perftui-light"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("interval = 'fast'\n", "'interval' must be a number"),
        ("gpu = 1\n", "'gpu' must be true or false"),
        ("theme = 3\n", "'theme' must be a string"),
        ("interval = 0\n", "'interval' must be between"),
        ("interval = [\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert needle in str(err.value)
    assert str(p) in str(err.value)


def test_bool_is_not_a_number() -> None:
    with pytest.raises(ConfigError):
        validate({"interval": True})


def test_xdg_and_env_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PERFTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "perftui" / "config.toml"
    monkeypatch.setenv("PERFTUI_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
