"""Theme files: perftui's own load and validate; bad files are reported, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from perftui.ui.themes import (
    DEFAULT_THEME,
    ThemeError,
    all_theme_names,
    load_theme_file,
    load_themes,
    theme_dirs,
)

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"


def test_shipped_themes_load_one_dark_one_light() -> None:
    loaded = load_themes([REPO_THEMES])
    assert loaded.errors == []
    by_name = {t.name: t for t in loaded.themes}
    assert DEFAULT_THEME in by_name
    assert by_name["perftui-dark"].dark and not by_name["perftui-light"].dark
    for t in by_name.values():
        assert "spark" in t.variables
    assert REPO_THEMES in theme_dirs()


def test_names_list_perftui_first_then_builtins() -> None:
    names = all_theme_names(load_themes([REPO_THEMES]))
    assert names[:2] == ["perftui-dark", "perftui-light"]
    assert "textual-dark" in names and "nord" in names


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name = "x"\n', "primary colour missing"),
        ('name = "Bad Name"\nprimary = "#fff"\n', "name must be"),
        ('name = "x"\nprimary = "not-a-colour"\n', "is not a colour"),
        ('name = "x"\nprimary = "#fff"\nsparkles = 1\n', "unknown field"),
        ('name = "x"\nprimary = "#fff"\n[variables]\nspark = "nope"\n', "variables.spark"),
        ("name = [\n", "not valid TOML"),
    ],
)
def test_bad_theme_files_are_rejected_with_the_reason(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ThemeError, match=r"bad\.toml") as err:
        load_theme_file(path)
    assert needle in str(err.value)
    loaded = load_themes([tmp_path, REPO_THEMES])
    assert len(loaded.errors) == 1 and "bad.toml" in loaded.errors[0]
    assert DEFAULT_THEME in [t.name for t in loaded.themes]


def test_user_theme_overrides_by_name(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('name = "perftui-dark"\nprimary = "#ff0000"\n')
    loaded = load_themes([REPO_THEMES, tmp_path])
    assert {t.name: t for t in loaded.themes}["perftui-dark"].primary == "#ff0000"
