"""The README says what the code does: every apikeys setting in its table with its real
default, and a layout that names every folder the tree has and only paths that exist."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from apikeys.conf import DEFAULTS, PREFIX

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    """The text under ``## title``, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README.md has no section '## {title}'."
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
    ]


SETTINGS = {
    row[0].strip("`"): row
    for row in table_rows(section("Using apikeys in another Django project"))
    if row[0].startswith(f"`{PREFIX}")
}
LAYOUT = [
    path
    for row in table_rows(section("Layout"))[1:]  # the header row names no path
    for path in re.findall(r"`([^`]+)`", row[0])
]


def test_the_settings_table_names_every_setting_and_nothing_else():
    assert sorted(SETTINGS) == sorted(PREFIX + name for name in DEFAULTS)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_the_settings_table_gives_each_settings_real_default(name):
    _, default, meaning = SETTINGS[PREFIX + name]
    # The cell starts with the default as a Python literal; words may follow it.
    literal = re.match(r"`([^`]+)`", default)
    assert literal, f"{PREFIX}{name}'s default {default!r} does not start with a `literal`."
    assert ast.literal_eval(literal.group(1)) == DEFAULTS[name]
    assert meaning


@pytest.mark.parametrize("path", LAYOUT)
def test_each_path_the_layout_names_exists(path):
    assert (ROOT / path).exists(), f"README's Layout names {path}, which is not in the tree."


def project_files() -> list[str]:
    """The project's files: tracked or new, less what .gitignore leaves out."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):  # not a git checkout: what is on disk
        listed = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()]
    return [name for name in listed if (ROOT / name).exists() and "__pycache__" not in name]


def folders(depth: int, under: tuple[str, ...] = ()) -> list[str]:
    """Folders ``depth`` levels down (1: the root's), only below ``under`` when given."""
    found = set()
    for name in project_files():
        parts = name.split("/")
        if len(parts) > depth and not parts[0].startswith(".") and (not under or parts[0] in under):
            found.add("/".join(parts[:depth]) + "/")
    return sorted(found)


@pytest.mark.parametrize("folder", folders(1) + folders(2, under=("apikeys", "api")))
def test_the_layout_names_every_folder_of_the_app_and_the_site(folder):
    assert any(path.startswith(folder) for path in LAYOUT), (
        f"{folder} is in the tree but not in README's Layout; add a row for it."
    )


def test_the_site_reads_from_its_environment_every_setting_the_readme_says_it_does():
    """Configuration's `APIKEYS_<setting>` row: every setting but the ones it names."""
    (row,) = [r for r in table_rows(section("Configuration")) if r[0] == "`APIKEYS_<setting>`"]
    named_exceptions = set(re.findall(r"`([A-Z][A-Z_]+)`", row[2]))
    assert named_exceptions < set(DEFAULTS)
    expected = {}
    env = {"PATH": "/usr/bin:/bin", "DJANGO_ALLOW_DEV_SECRET_KEY": "1"}
    for number, name in enumerate(sorted(set(DEFAULTS) - named_exceptions), start=2):
        default = DEFAULTS[name]
        if isinstance(default, bool) or default is None:  # flags, and REQUIRE_HTTPS's "unset"
            value, env[PREFIX + name] = default is not True, "0" if default is True else "1"
        elif isinstance(default, int | float):  # read as int or float: 7 == 7.0
            value, env[PREFIX + name] = number, str(number)
        else:
            value = env[PREFIX + name] = f"/somewhere/{name.lower()}.json"
        expected[PREFIX + name] = value
    probe = (
        "import json; from django.conf import settings\n"
        f"names = {sorted(expected)!r}\n"
        "print(json.dumps({name: getattr(settings, name, None) for name in names}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "nunu_admin.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def readme_names() -> list[str]:
    """Every apikeys name the host's section mentions: `apikeys.x.y` and the names its
    examples import with ``from apikeys.x import a, b``."""
    text = section("Using apikeys in another Django project")
    names = set(re.findall(r"\b(apikeys(?:\.[A-Za-z_]\w*)+)", text))
    names = {name for name in names if not re.fullmatch(r"apikeys\.[EW]\d{3}", name)}  # checks
    for module, imported in re.findall(r"^from (apikeys[\w.]*) import (.+)$", text, re.M):
        names.update(f"{module}.{name.strip()}" for name in imported.split(","))
    return sorted(names)


@pytest.mark.parametrize("dotted", readme_names())
def test_each_apikeys_name_the_host_section_mentions_exists(dotted):
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)  # AttributeError names what the README invents
        return
    pytest.fail(f"README names {dotted}, which cannot be imported.")
