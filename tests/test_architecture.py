"""Dependencies point one way: no import cycles, no lower layer importing a higher one, no service importing a view.

Read from the source with `ast` (function-level imports count too), so a new module is checked
the day it is written. The layers are drawn in docs/architecture.md.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "matrix"

# Lowest first. A module belongs to the layer of its longest matching prefix.
LAYERS = [
    ("base", ["matrix.models", "matrix.extensions", "matrix.errors", "matrix.chain", "matrix.cleaning", "matrix.choices",
              "matrix.weeks", "matrix.sandbox", "matrix.forms", "matrix.transaction", "matrix.ops.ratelimit",
              "matrix.paging"]),
    ("edges", ["matrix.geo", "matrix.geocoding", "matrix.regions", "matrix.wecom"]),
    ("registry", ["matrix.auth", "matrix.users", "matrix.brands", "matrix.stores", "matrix.accounts",
                  "matrix.communities", "matrix.audit", "matrix.permissions"]),
    ("features", ["matrix.content", "matrix.campaigns", "matrix.plans", "matrix.live", "matrix.leads",
                  "matrix.notifications", "matrix.imports", "matrix.overview", "matrix.joins",
                  "matrix.storefront", "matrix.broadcasts", "matrix.onboarding", "matrix.today",
                  "matrix.printjobs", "matrix.materials"]),
    ("app", ["matrix", "matrix.commands", "matrix.demo", "matrix.demo_chain", "matrix.templating", "matrix.ops"]),
]
APP = len(LAYERS) - 1


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_view(module: str) -> bool:
    """Views and blueprints are the web edge: they sit above every service, whatever their package."""
    last = module.rsplit(".", 1)[-1]
    return last in ("views", "blueprint") or last.endswith("_views")


def layer_of(module: str) -> int:
    if is_view(module):
        return APP
    best, best_len = -1, -1
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # "matrix" (the app factory) is one module, not the prefix of every module.
            matches = module == prefix or (prefix != "matrix" and module.startswith(prefix + "."))
            if matches and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in modules and target != name and target != "matrix":
                    graph[name].add(target)
    # The models registry imports every feature's models so migrations see every table: allowed.
    graph["matrix.models"] = {t for t in graph["matrix.models"]
                              if not t.endswith(".models") and modules[t].name != "__init__.py"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in import_graph() if layer_of(m) < 0)
    assert not unplaced, f"add these modules to a layer in tests/test_architecture.py: {unplaced}"


def test_no_lower_layer_imports_a_higher_one():
    breaks = sorted(f"{a} -> {b}" for a, targets in import_graph().items() for b in targets
                    if layer_of(a) < layer_of(b))
    assert not breaks, "imports against the layers:\n" + "\n".join(breaks)


def test_services_never_import_views():
    graph = import_graph()
    bad = sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                 if is_view(b) and not is_view(a) and a != "matrix")
    assert not bad, bad


def test_views_do_not_import_another_features_views():
    def feature(module):
        return module.split(".")[1]
    bad = sorted(f"{a} -> {b}" for a, targets in import_graph().items() for b in targets
                 if is_view(a) and is_view(b) and feature(a) != feature(b))
    assert not bad, bad


def test_the_checker_sees_a_break_and_a_cycle():
    """The checks above would notice: a registry module importing a feature, and two modules importing each other."""
    assert layer_of("matrix.stores.services") < layer_of("matrix.leads.models")
    assert layer_of("matrix.stores.views") > layer_of("matrix.leads.services")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
