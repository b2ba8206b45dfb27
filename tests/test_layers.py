"""Imports between the domains run one way (issue 16).

The domains (`ideas_platform/<domain>/`) form layers by what their services and helpers
import: no two domains import each other, directly or around a circle, also not inside a
function. What stays allowed:
- every module may import any domain's `models` (the schema is one layer, like the tables);
- the web layer (`*controllers.py`, the form dependencies, `app.py`) composes the domains'
  services and may import any of them;
- `core` is the bottom: it imports no domain at all.
An upper domain that needs to react to a lower one listens (channels, outbox, jobs) instead of
being called."""

from __future__ import annotations

import ast
import itertools
import pathlib
from collections import defaultdict

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "ideas_platform"
DOMAINS = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
WEB_LAYER = ("controllers.py", "_controllers.py", "dependencies.py")


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every `ideas_platform.…` module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ideas_platform":
                found |= {f"ideas_platform.{alias.name}" for alias in node.names}
            elif node.module.count(".") == 1:
                # `from ideas_platform.ideas import service` imports ideas.service
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif node.module.startswith("ideas_platform."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ideas_platform.")}
    return found


def domain_imports() -> dict[str, dict[str, set[str]]]:
    """domain -> imported domain -> the importing files (web layer and models excluded)."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2 or parts[-1].endswith(WEB_LAYER):
            continue
        domain = parts[0]
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            names = module.split(".")
            if len(names) < 2 or names[1] not in DOMAINS or names[1] == domain:
                continue
            if names[-1] == "models" or (len(names) > 2 and names[2] == "models"):
                continue
            edges[domain][names[1]].add(str(path.relative_to(PACKAGE)))
    return edges


def _cycle(edges: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One cycle in the graph of domains, if there is one."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(domain: str) -> list[str] | None:
        state[domain] = 1
        trail.append(domain)
        for target in sorted(edges.get(domain, {})):
            if state.get(target) == 1:
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[domain] = 2
        trail.pop()
        return None

    for domain in sorted(edges):
        if domain not in state and (found := visit(domain)):
            return found
    return None


def test_core_imports_no_domain():
    edges = domain_imports()
    assert {target: sorted(files) for target, files in edges["core"].items()} == {}


def test_the_domains_import_each_other_one_way():
    edges = domain_imports()
    assert len(edges) > 10  # the scan sees the package
    cycle = _cycle(edges)
    if cycle:
        steps = [
            f"{a} -> {b} ({', '.join(sorted(edges[a][b]))})" for a, b in itertools.pairwise(cycle)
        ]
        raise AssertionError("domains import each other in a circle:\n" + "\n".join(steps))


def test_the_check_finds_a_circle():
    tree = ast.parse("from ideas_platform.votes import models, service\nimport ideas_platform.x.y")
    assert _imported_modules(tree) == {
        "ideas_platform.votes.models",
        "ideas_platform.votes.service",
        "ideas_platform.x.y",
    }
    edges: dict[str, dict[str, set[str]]] = {
        "ideas": {"votes": {"ideas/service.py"}},
        "votes": {"events": {"votes/service.py"}},
        "events": {"ideas": {"events/service.py"}},
    }
    assert _cycle(edges) == ["events", "ideas", "votes", "events"]
    assert _cycle({"ideas": {"votes": {"ideas/service.py"}}}) is None
