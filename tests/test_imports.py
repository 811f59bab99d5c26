"""The import graph of the lab's packages: no cycles, and the layers of docs/architecture.md.

Each module is read with `ast`, never imported. An edge is an import that runs when the
module is imported: at module level, in a class body, under `try` or a plain `if`. Imports
inside functions are lazy and so not edges, and neither are imports under
`if TYPE_CHECKING:`, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "scenarios",
    "team",
    "checks",
    "graphs",
    "agents",
    "experiments",
    "tools",
    "prompts",
    "traces",
    "gateway",
)
KERNEL = ("scenarios.spec", "scenarios.errors", "scenarios.loader", "scenarios.textfile")
ABOVE_KERNEL = ("agents", "graphs", "gateway", "traces", "tools", "team", "checks", "experiments")
COMMENTED_LAZY = PACKAGES  # packages whose lazy imports each say why

# The layers of docs/architecture.md, lowest first: a module imports (when it is imported)
# only modules of its own layer or below. A name stands for the module and its submodules.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kernel", ("scenarios", *KERNEL, "prompts")),
    ("traces", ("traces",)),
    ("gateway", ("gateway",)),
    ("tools", ("tools",)),
    ("team", ("team",)),
    ("checks", ("checks",)),
    ("frameworks", ("graphs", "agents")),
    ("experiments", ("experiments",)),
    (
        "commands",
        (
            "scenarios.cli",
            "scenarios.__main__",
            "scenarios.research_team",
            "scenarios.support_qa",
            "scenarios.event_planning",
        ),
    ),
)
FRAMEWORK_PACKAGES = (
    "langgraph",
    "langchain_core",
    "langchain_ollama",
    "langchain_openai",
    "crewai",
    "autogen_agentchat",
    "autogen_core",
    "autogen_ext",
)

Graph = Mapping[str, set[str]]


def module_files() -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def eager_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported (not in functions, not TYPE_CHECKING)."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def lazy_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports inside functions: they run on the function's first call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def _known(name: str, modules: Collection[str]) -> str | None:
    """`name` or its longest prefix that is one of `modules` (None when outside the project)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: Collection[str]
) -> set[str]:
    """The project modules one import statement of `module` imports."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            anchor = package[: len(package) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    return {found for name in names if (found := _known(name, modules))}


def graph_of(sources: Mapping[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the modules it imports when imported, from each one's (source, is_package)."""
    graph = {}
    for module, (text, is_package) in sources.items():
        edges: set[str] = set()
        for node in eager_imports(ast.parse(text)):
            edges |= imported_modules(node, module, is_package, sources)
        graph[module] = edges - {module}
    return graph


def import_graph() -> dict[str, set[str]]:
    """The import graph of the lab's packages."""
    files = module_files()
    return graph_of(
        {
            name: (path.read_text(encoding="utf-8"), path.name == "__init__.py")
            for name, path in files.items()
        }
    )


def cycles(graph: Graph) -> dict[tuple[str, ...], list[str]]:
    """Each set of modules that import one another (sorted) -> one cycle through them."""
    digraph = nx.DiGraph(sorted((a, b) for a, targets in graph.items() for b in targets))
    found = {}
    for component in nx.strongly_connected_components(digraph):
        if len(component) > 1:
            edges = nx.find_cycle(digraph.subgraph(component), source=min(component))
            found[tuple(sorted(component))] = [edges[0][0], *(b for _, b in edges)]
    return found


def _describe(found: Mapping[tuple[str, ...], list[str]]) -> str:
    return "\n".join(" -> ".join(path) for path in found.values())


def test_the_packages_have_no_import_cycle() -> None:
    """No module imports, through others, a module that imports it back (named if one does)."""
    found = cycles(import_graph())
    assert not found, f"import cycles:\n{_describe(found)}"


def layer_of(module: str) -> int:
    """The index in LAYERS of the most specific layer naming `module` or a package above it."""
    best, depth = -1, -1
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = index, len(prefix)
    assert best >= 0, f"{module} is in no layer of LAYERS"
    return best


def test_every_module_imports_only_its_layer_or_below() -> None:
    """Kernel < traces < gateway < tools < team < frameworks < commands, as architecture.md says."""
    upward = []
    for module, targets in import_graph().items():
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                upward.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                    f"({LAYERS[layer_of(target)][0]})"
                )
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_the_team_core_imports_no_framework_not_even_lazily() -> None:
    """team/ names no LangGraph, LangChain, CrewAI or AutoGen module anywhere in its code."""
    found = []
    for module, path in module_files().items():
        if module.split(".")[0] != "team":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                found += [f"{module}: {n}" for n in names if n.split(".")[0] in FRAMEWORK_PACKAGES]
    assert not found, found


def test_the_crewai_and_autogen_runners_never_import_graphs() -> None:
    """Only the LangGraph runner reaches graphs/: the others translate the core directly."""
    graph = import_graph()
    for module in (
        "agents.crewai_runner",
        "agents.autogen_runner",
        "agents.autogen_team",
        "agents.autogen_trace",
    ):
        reached = nx.descendants(nx.DiGraph([(a, b) for a, t in graph.items() for b in t]), module)
        assert not [m for m in reached if m.split(".")[0] == "graphs"], module


def test_the_kernel_imports_no_higher_package() -> None:
    """spec, errors, loader, textfile import none of agents, graphs, gateway, traces, tools."""
    graph = import_graph()
    for module in KERNEL:
        higher = sorted(m for m in graph[module] if m.split(".")[0] in ABOVE_KERNEL)
        assert not higher, f"{module} imports {higher} when imported"


def says_why(lines: Sequence[str], lineno: int) -> bool:
    """Whether the import at `lineno` (1-based) has a comment on its line or above its group.

    The comment above may stand alone or end the line that opens the block (`try:  # ...`);
    the imports right after one another share it.
    """
    if "#" in lines[lineno - 1]:
        return True
    above = lineno - 2
    while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
        above -= 1
    return above >= 0 and "#" in lines[above]


def test_every_lazy_import_says_why() -> None:
    """Anywhere in the lab, an import inside a function has a comment saying why."""
    silent = []
    for module, path in module_files().items():
        if module.split(".")[0] not in COMMENTED_LAZY:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in lazy_imports(ast.parse("\n".join(lines))):
            if not says_why(lines, node.lineno):
                line = lines[node.lineno - 1].strip()
                silent.append(f"{path.relative_to(ROOT)}:{node.lineno}: {line}")
    assert not silent, "lazy imports without a comment saying why:\n" + "\n".join(silent)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("def f():\n    import x  # slow\n", True),
        ("def f():\n    # slow\n    import x\n    import y\n", True),
        (
            "def f():\n    try:  # optional\n        import x\n"
            "    except ImportError:\n        pass\n",
            True,
        ),
        ("def f():\n    import x\n", False),
        ("def f():  # a comment on the function\n    n = 1\n    import x\n", False),
    ],
    ids=["on the line", "above the group", "on try", "none", "not right above"],
)
def test_a_lazy_import_says_why_on_its_line_or_right_above(source: str, why: bool) -> None:
    """The comment that explains a lazy import is on it or right above it, nowhere else."""
    lines = source.splitlines()
    (node,) = [n for n in lazy_imports(ast.parse(source)) if "x" in ast.unparse(n)]
    assert says_why(lines, node.lineno) is why


def _made_up(sources: Mapping[str, str]) -> dict[str, set[str]]:
    """The import graph of made-up modules (`pkg` is their package)."""
    return graph_of({name: (text, name == "pkg") for name, text in sources.items()})


def test_a_cycle_is_found_and_named() -> None:
    """Modules a -> b -> c -> a are one cycle, named from a; d, which imports a, is not in it."""
    graph = _made_up(
        {
            "pkg.a": "from pkg.b import x\n",
            "pkg.b": "import pkg.c\n",
            "pkg.c": "from pkg import a\n",
            "pkg.d": "from pkg.a import y\n",
            "pkg": "",
        }
    )
    assert cycles(graph) == {("pkg.a", "pkg.b", "pkg.c"): ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]}


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    from pkg.a import x\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n",
        "import typing\nif typing.TYPE_CHECKING:\n    import pkg.a\n",
    ],
    ids=["in a function", "TYPE_CHECKING", "typing.TYPE_CHECKING"],
)
def test_lazy_and_type_checking_imports_are_no_edges(source: str) -> None:
    """An import in a function or under TYPE_CHECKING does not close a cycle."""
    graph = _made_up({"pkg.a": "import pkg.b\n", "pkg.b": source, "pkg": ""})
    assert graph["pkg.b"] == set()
    assert cycles(graph) == {}


@pytest.mark.parametrize(
    "source",
    [
        "try:\n    from pkg.a import x\nexcept ImportError:\n    x = None\n",
        "import sys\nif sys.version_info >= (3, 11):\n    from . import a\n",
        "class C:\n    from .a import x\n",
    ],
    ids=["try", "if", "class body"],
)
def test_imports_that_run_on_import_are_edges(source: str) -> None:
    """An import under try, a plain if or in a class body runs on import: it closes the cycle."""
    graph = _made_up({"pkg.a": "import pkg.b\n", "pkg.b": source, "pkg": ""})
    assert cycles(graph) == {("pkg.a", "pkg.b"): ["pkg.a", "pkg.b", "pkg.a"]}
