"""axe-core in the browser: inject frontend/node_modules/axe-core/axe.min.js, run it, keep
the serious and critical violations (WCAG 2.0-2.2 A and AA rules)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `npm ci` in frontend/ (axe-core is a devDependency)")
    return AXE_JS.read_text()


def run_axe(page: Any, *, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """All of axe's violations on the page as it is now (each with its impact and nodes)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    context = {"exclude": [[selector] for selector in exclude or []]} if exclude else None
    return page.evaluate(
        """async ([context, tags]) => {
            const result = await window.axe.run(context ?? document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
            }));
        }""",
        [context, TAGS],
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({v['help']})")
        lines += [f"    {n['target']}: {(n['summary'] or '').splitlines()[-1].strip()}" for n in v["nodes"][:5]]
    return "\n".join(lines)


def assert_accessible(page: Any, where: str, *, exclude: list[str] | None = None) -> None:
    """No serious or critical violation on the page."""
    blocking = [v for v in run_axe(page, exclude=exclude) if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {where}:\n{describe(blocking)}"
