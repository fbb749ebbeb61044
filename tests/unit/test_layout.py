"""The layers import one way: geo/ stands alone, a service module builds no app, and
tests/, scripts/ and bench/ do not lean on each other."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_roots(folder: str) -> dict[str, set[str]]:
    """Each module under ``folder`` -> the top-level packages it imports."""
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        roots = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = roots
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("geo", {"flask", "flask_smorest", "service", "bench", "tests", "scripts"}),
        ("service", {"bench", "tests", "scripts"}),
        ("tests", {"bench", "scripts"}),
        ("scripts", {"tests", "bench"}),
        ("bench", {"tests", "scripts"}),
    ],
)
def test_a_layer_imports_nothing_above_or_beside_it(folder, forbidden):
    offenders = {
        module: sorted(roots & forbidden)
        for module, roots in imported_roots(folder).items()
        if roots & forbidden
    }
    assert offenders == {}


def test_importing_a_pure_rule_builds_no_app():
    """Importing rule modules loads no blueprint (``service`` builds its app lazily)."""
    probe = (
        "import sys; import service.rewards.rules, service.checkins.eligibility, "
        "service.presence.shaping, geo.rules, geo.privacy; "
        "print(sorted(m for m in sys.modules if m.endswith('.routes') "
        "or m in ('flask_smorest', 'service.app')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"


def test_the_app_is_still_built_from_the_package():
    from service import create_app

    assert create_app.__module__ == "service.app"


def test_every_view_is_thin():
    """STYLE: parse (decorators), call one function, commit, return; ≤ 12 lines a view."""
    long_views = []
    for path in (ROOT / "service").rglob("routes.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                for method in node.body:
                    if isinstance(method, ast.FunctionDef):
                        lines = method.end_lineno - method.lineno + 1
                        if lines > 12:
                            long_views.append(f"{path.parent.name}.{node.name}.{method.name}")
    assert long_views == []
