"""The layers hold (docs/architecture.md, "Layers"): the web framework stays at the edge,
views are thin, and what follows a commit happens in one place (chalicelib/uow.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = sorted((ROOT / "chalicelib").glob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: p.name)
def test_no_domain_module_imports_the_web_framework_or_the_app(path: Path) -> None:
    framework = {name for name in _imports(path) if name == "chalice" or name.startswith("chalice.")}
    assert not framework, f"{path.name} imports {sorted(framework)}: only app.py may"
    assert "app" not in _imports(path), f"{path.name} imports app.py"


def test_the_import_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from chalice import Response\n    return Response\n")
    assert "chalice" in _imports(sneaky)


def _views() -> list[ast.FunctionDef]:
    tree = ast.parse((ROOT / "app.py").read_text())
    views = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr == "route":
                    views.append(node)
    return views


def _service_calls(view: ast.FunctionDef) -> list[str]:
    """Calls that reach the logic: uow.read/uow.write, or a use case handed the unit of work."""
    calls = []
    for node in ast.walk(view):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "uow":
            calls.append(f"uow.{func.attr}")
        elif any(isinstance(arg, ast.Name) and arg.id == "uow" for arg in node.args):
            calls.append(ast.unparse(func))
    return calls


def test_every_view_is_parse_then_one_service_call_then_shape() -> None:
    views = _views()
    assert len(views) >= 40  # the check found the routes
    for view in views:
        calls = _service_calls(view)
        assert len(calls) <= 1, f"{view.name} calls {calls}: a view calls one service"


def test_no_view_publishes_or_flushes_after_a_write_itself() -> None:
    """Events and cache flushes are recorded in the domain and carried out by the unit of
    work after the commit; a view that does it by hand is the bug issue 9 names."""
    source = (ROOT / "app.py").read_text()
    for step in ("events.publish", "cache.after_write", "cache.flush_menu_cache", "database()"):
        assert step not in source, f"app.py calls {step}"
    for path in DOMAIN:
        if path.name in ("uow.py", "events.py", "cache.py", "db.py"):
            continue
        text = path.read_text()
        for step in ("events.publish(", "flush_menu_cache(", "after_write("):
            assert step not in text, f"{path.name} calls {step}: record it on the Tx (chalicelib/uow.py)"
        assert "database()" not in text.replace("`database()`", ""), f"{path.name} reaches for database()"
