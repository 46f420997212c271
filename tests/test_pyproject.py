"""The wheel's declared dependencies are what apikeys uses: no fewer (a host would miss
them) and no more (the nunu site's own needs stay in requirements.txt). The build
itself is tested in tests/test_wheel.py (`make test-slow`)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from django.template import engines

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
APP = ROOT / "apikeys"
# The adapters import their framework only when a host uses them, and the guard its
# PostgreSQL driver only on PostgreSQL (the extras).
OPTIONAL = (APP / "contrib", APP / "guard" / "lookup_postgres.py")


def distribution_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def distribution_of(module: str, where: object) -> str:
    names = packages_distributions().get(module)
    assert names, f"{module!r} (imported by {where}) comes from no installed distribution."
    return names[0].lower().replace("_", "-")


def third_party_imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != "apikeys"}


def imported_distributions(*, optional: bool) -> set[str]:
    found = set()
    for path in APP.rglob("*.py"):
        if any(path.is_relative_to(part) for part in OPTIONAL) == optional:
            for module in third_party_imports(path):
                found.add(distribution_of(module, path.relative_to(ROOT)))
    return found


def template_library_distributions() -> set[str]:
    """Who provides the tag libraries the app's templates {% load %}."""
    libraries = engines["django"].engine.libraries  # type: ignore[attr-defined]
    found = set()
    for template in (APP / "templates").rglob("*.html"):
        for loaded in re.findall(r"{%\s*load\s+([^%]+?)\s*%}", template.read_text()):
            for name in loaded.split():
                package = libraries[name].split(".")[0]
                if package != "apikeys":
                    found.add(distribution_of(package, template.relative_to(ROOT)))
    return found


def test_the_declared_dependencies_are_what_apikeys_imports_and_its_templates_load():
    declared = {distribution_name(requirement) for requirement in PROJECT["dependencies"]}
    used = imported_distributions(optional=False) | template_library_distributions()
    assert declared == used


def test_the_adapters_import_only_the_core_dependencies_and_their_extras():
    declared = {distribution_name(requirement) for requirement in PROJECT["dependencies"]}
    extras = {
        distribution_name(requirement)
        for requirements in PROJECT["optional-dependencies"].values()
        for requirement in requirements
    }
    assert imported_distributions(optional=True) <= declared | extras
    assert set(PROJECT["optional-dependencies"]) == {"drf", "ninja", "redis", "postgres"}
