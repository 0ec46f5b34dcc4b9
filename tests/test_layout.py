"""The floors hold: imports go one way (README, "Layout"), no module imports itself back through others, and a
function-local import of the project's own code says why it cannot be at the top."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("governance", "optout", "audits", "releases")
# The pipelines' client, a distribution of its own (clients/python): the portal imports it, never the reverse.
CLIENT = "exclusions"
CLIENT_ROOT = ROOT / "clients" / "python"
FRAMEWORKS = ("django", "rest_framework", "celery", "kombu", "drf_spectacular")


def _modules() -> dict[str, Path]:
    modules = {}
    for root, package in [*((ROOT, app) for app in APPS), (CLIENT_ROOT, CLIENT)]:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = _modules()


class _Imports(ast.NodeVisitor):
    """Every import of a module: (imported name, line, inside a function?)."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package, self.depth, self.found = module, is_package, 0, []

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            self.generic_visit(node)

    def visit_Import(self, node):
        self.found += [(alias.name, node.lineno, self.depth > 0) for alias in node.names]

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:
            package = self.module.split(".")[: None if self.is_package else -1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, base] if base else package)
        self.found += [(f"{base}.{alias.name}", node.lineno, self.depth > 0) for alias in node.names]


def _project_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports() -> list[tuple[str, str, int, bool]]:
    """(importer, imported project module or third-party name, line, local) for every import."""
    edges = []
    for module, path in MODULES.items():
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text()))
        for name, line, local in visitor.found:
            target = _project_module(name) if name.split(".")[0] in (*APPS, CLIENT) else name
            if target != module:
                edges.append((module, target, line, local))
    return edges


IMPORTS = _imports()


def _app(module: str) -> str:
    return CLIENT if module.startswith(CLIENT + ".") or module == CLIENT else module.split(".")[0]


def _allowed(importer: str, imported: str) -> bool:
    low, high = _app(importer), _app(imported)
    if low == CLIENT:
        return high == CLIENT or imported.split(".")[0] not in (*APPS, *FRAMEWORKS)
    if high not in APPS and high != CLIENT:
        return True  # a third-party library
    floors = {"governance": {"governance", CLIENT}, "optout": {"governance", "optout"}}
    floors["audits"] = {"governance", "audits"}
    floors["releases"] = {"governance", CLIENT, "optout", "audits", "releases"}
    return high in floors[low]


def test_imports_go_down_the_floors_only():
    forbidden = [f"{a} -> {b} (line {line})" for a, b, line, _ in IMPORTS if not _allowed(a, b)]
    assert forbidden == []


def test_the_pipeline_client_imports_no_framework():
    framework = [f"{a} -> {b}" for a, b, _, _ in IMPORTS if _app(a) == CLIENT and b.split(".")[0] in FRAMEWORKS]
    assert framework == []


def test_no_module_imports_itself_back():
    graph: dict[str, set[str]] = {}
    for importer, imported, _, _ in IMPORTS:
        if imported in MODULES:
            graph.setdefault(importer, set()).add(imported)
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                cycles.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_a_function_local_import_of_the_project_says_why():
    unexplained = []
    for importer, imported, line, local in IMPORTS:
        if not local or imported not in MODULES:
            continue
        lines = MODULES[importer].read_text().splitlines()
        said = "#" in lines[line - 1] or lines[line - 2].strip().startswith("#")
        if not said:
            unexplained.append(f"{importer}:{line} imports {imported}")
    assert unexplained == []


# Libraries that talk to the outside world (or carry its rules) have one module each (STYLE.md, DESIGN.md).
ONE_MODULE = {"scancode": "audits.scancode", "licensedcode": "audits.scancode", "enry": "audits.scanning.labels"}


def test_scancode_and_enry_are_each_imported_by_their_one_module():
    strays = [
        f"{importer} imports {imported}"
        for importer, imported, _, _ in IMPORTS
        if imported.split(".")[0] in ONE_MODULE and importer != ONE_MODULE[imported.split(".")[0]]
    ]
    assert strays == []
