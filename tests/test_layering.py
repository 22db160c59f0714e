"""Dependencies point one way: the apps use the ``devskyy`` plumbing, never the reverse; domain
services raise domain errors and do not know about DRF; the role vocabulary is ``User.Role``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("commerce", "agents_audit", "knowledge")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any level (function-level imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _python_files("devskyy"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_plumbing_imports_no_app(path):
    offending = {name for name in _imports(path) if name.split(".")[0] in APPS}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


SERVICE_MODULES = [
    p
    for app in (*APPS, "devskyy")
    for p in _python_files(app)
    if p.name in {"services.py", "errors.py", "selectors.py", "models.py", "querysets.py"}
    or "services" in p.parent.name
]


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_services_selectors_and_errors_do_not_import_the_api_layer(path):
    selector = path.name == "selectors.py"
    offending = {
        name
        for name in _imports(path)
        if name.split(".")[0] == "rest_framework" or (not selector and "api" in name.split("."))
    }
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


def test_role_names_are_spelled_only_by_the_user_model():
    """``"agent"``, ``"operator"``... as string literals outside ``commerce.models`` would be a
    second vocabulary; code says ``User.Role.AGENT`` or a role group such as ``User.STAFF_ROLES``.
    """
    roles = {"customer", "agent", "operator", "admin"}
    found = []
    for app in (*APPS, "devskyy"):
        for path in _python_files(app):
            if path == ROOT / "commerce" / "models.py" or "settings" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            usernames = {  # a default username such as the demo "operator" is not a role
                id(default)
                for fn in ast.walk(tree)
                if isinstance(fn, ast.FunctionDef)
                for arg, default in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)
                if arg.arg == "username"
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and node.value in roles
                    and id(node) not in usernames
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found
