"""The import graph of the package follows the pipeline and has no cycles: each module can
be read knowing only what it imports, and no stage reaches up to a later one. Imports inside
functions count (they still tie the modules together); imports under `if TYPE_CHECKING:` do
not (they never run)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tests.support.paths import REPO

PACKAGE = REPO / "gen"


def module_names() -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(["pingen", *parts])] = path
    return names


def _known(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found += [n for child in node.orelse for n in _runtime_imports(child)]
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        found += _runtime_imports(node)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                known = _known(target, modules)
                if known is not None and known != name:
                    graph[name].add(known)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 200  # the walk sees imports
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# The pipeline, first stage first: a module may import its own stage and earlier ones only.
# The core (errors, spki, model, hosts, confine, textsafe, data and the package) comes first;
# `write` and `targets` put rendered outputs on disk; the commands and the CLI sit on top.
STAGES: tuple[tuple[str, ...], ...] = (
    (
        "pingen",
        "pingen.errors",
        "pingen.spki",
        "pingen.textsafe",
        "pingen.confine",
        "pingen.model",
        "pingen.hosts",
        "pingen.data",
        "pingen.nodes",
    ),
    ("pingen.pki",),
    ("pingen.config",),
    ("pingen.render",),
    ("pingen.judge",),
    ("pingen.report",),
    ("pingen.author", "pingen.probe"),
    ("pingen.write", "pingen.targets"),
    ("pingen.commands",),
    ("pingen.cli", "pingen.__main__"),
)


def stage_of(module: str) -> int:
    """The stage a module belongs to: the longest prefix the table names."""
    best, rank = "", -1
    for index, stage in enumerate(STAGES):
        for prefix in stage:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, index
    return rank


def upward_edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if stage_of(target) > stage_of(module)
    )


def test_every_module_belongs_to_a_stage() -> None:
    unplaced = [name for name in module_names() if name != "pingen" and stage_of(name) == 0]
    loose = [name for name in unplaced if name not in STAGES[0]]
    assert loose == [], f"put these modules in a stage package or name them in STAGES: {loose}"


def test_no_stage_imports_a_later_stage() -> None:
    graph = import_graph()
    assert upward_edges(graph) == []


def test_the_stage_check_finds_an_upward_edge() -> None:
    graph = {"pingen.pki.chain": {"pingen.judge.verify"}, "pingen.judge.verify": {"pingen.pki"}}
    assert upward_edges(graph) == [("pingen.pki.chain", "pingen.judge.verify")]


# -- the tests: a test module never imports another; what tests share is in tests/support --

TESTS = REPO / "tests"


def imported_test_modules(source: str, package: str) -> list[str]:
    """The test modules (tests/**/test_*.py) that `source`, a module of `package`, imports
    anywhere (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in candidates:
            path = REPO.joinpath(*name.split(".")).with_suffix(".py")
            if name.rpartition(".")[2].startswith("test_") and path.is_file():
                found.add(name)
    return sorted(found)


def test_no_test_module_imports_another() -> None:
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        package = ".".join(path.parent.relative_to(REPO).parts)
        imported = imported_test_modules(path.read_text(encoding="utf-8"), package)
        if imported:
            offenders[path.relative_to(REPO).as_posix()] = imported
    assert offenders == {}, "move what tests share into tests/support and import it from there"


def test_the_test_import_check_finds_one() -> None:
    source = (
        "import tests.test_layering\n"
        "from tests import test_quality\n"
        "from . import test_layering\n"
        "def helper():\n    from tests.test_example import x\n"
        "from tests.support.paths import REPO\n"
    )
    assert imported_test_modules(source, "tests") == [
        "tests.test_example",
        "tests.test_layering",
        "tests.test_quality",
    ]


STAGE_TEST_FOLDERS = ("pki", "config", "render", "judge", "report", "author", "probe")


def test_the_test_tree_mirrors_the_stage_packages() -> None:
    """Each stage package between the core and the writers has its tests in a folder of the
    same name (README, "Two commands"); cross-cutting tests stay at tests/."""
    stages = [prefix for stage in STAGES[1:7] for prefix in stage]
    assert stages == [f"pingen.{name}" for name in STAGE_TEST_FOLDERS]
    for name in STAGE_TEST_FOLDERS:
        folder = TESTS / name
        assert (folder / "__init__.py").is_file(), f"tests/{name}/ is not a package"
        assert sorted(folder.glob("test_*.py")), f"tests/{name}/ holds no test module"


# -- imports go at module top, except at these named boundaries ---------------------------

# What a function may import, and what that keeps off the import path of the modules that
# do not always need it. Everything else is imported at module top (imports under
# `if TYPE_CHECKING:` never run and are not counted). The CLI reaches the commands through
# importlib (pingen.cli.LazyGroup), so `pingen --help` imports none of them.
TLS = "ssl (and asyncio): only the code paths that dial or serve load the TLS stack"
READS_PINS_YAML = "yaml: a command loads the pins.yaml reader when it runs, not for --help"
RENDERS = "jinja2 and the platform tables: only build (and expires' rewrite) render outputs"
LAZY_BOUNDARIES: dict[str, str] = {
    # heavy third-party libraries
    "cryptography": "a config of sha256 pins is loaded, built and explained without parsing a "
    "key or certificate (pingen.spki, pingen.pki.sources, pingen.pki.catalog)",
    "idna": "ASCII host names, nearly all of them, need no IDNA (pingen.hosts)",
    "certifi": "the Mozilla roots are read only when pins.yaml names no trust.ca_file",
    "asyncio": "the probe's server loop, only once the probe serves",
    # pingen modules that import a heavy library at their top
    "pingen.pki.chain": "cryptography (for commands.pin's --ca-file, and the catalog's roots)",
    "pingen.pki.fetch": TLS,
    "pingen.pki.live": TLS,
    "pingen.judge.verify": TLS,
    "pingen.probe.endpoint": TLS,
    "pingen.probe.report": TLS,
    "pingen.config.load": READS_PINS_YAML,
    "pingen.config.revision": READS_PINS_YAML,
    "pingen.judge.diff": "cryptography: diff --verify and --chain read certificates",
    "pingen.report.diff": "it imports pingen.judge.diff",
    "pingen.author.expiry": READS_PINS_YAML,
    "pingen.judge.guard": "cryptography: guard's certificates",
    "pingen.report.guard": "guard's report, with pingen.judge.guard",
    "pingen.pki.catalog": "a pins.yaml's own catalog file, read only when it names one",
    # optional stages
    "pingen.render": "the platform rules of the outputs a config has: a verify of a config "
    "without outputs loads none of them",
    "pingen.targets": RENDERS,
    "pingen.write": RENDERS,
    "pingen.judge.explain": RENDERS,
    "pingen.report.markdown": "--format markdown only",
    "pingen.judge.futures.gaps": "it imports pingen.judge.futures.context, which the package "
    "loads first",
}


def function_imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) of every import inside a function."""
    modules = module_names()
    found: list[tuple[str, str, int]] = []
    for name, path in modules.items():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    found += [(name, alias.name, node.lineno) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    submodules = [f"{node.module}.{alias.name}" for alias in node.names]
                    known = [module for module in submodules if module in modules]
                    found += [(name, module, node.lineno) for module in known or [node.module]]
    return found


def boundary_of(module: str) -> str | None:
    """The LAZY_BOUNDARIES entry that names `module` (the longest prefix), if any."""
    names = [key for key in LAZY_BOUNDARIES if module == key or module.startswith(key + ".")]
    return max(names, key=len, default=None)


def test_imports_inside_functions_only_at_the_named_boundaries() -> None:
    found = function_imports()
    assert len(found) > 20  # the walk sees them
    loose = [
        f"{PACKAGE.name}/{module_names()[name].relative_to(PACKAGE)}:{line}: {target}"
        for name, target, line in found
        if boundary_of(target) is None
    ]
    assert loose == [], "import these at module top, or name the boundary: " + str(loose)


def test_every_named_boundary_is_used() -> None:
    used = {boundary_of(target) for _, target, _ in function_imports()}
    assert sorted(set(LAZY_BOUNDARIES) - used) == []


def test_the_boundary_check_finds_a_loose_import() -> None:
    assert boundary_of("pingen.render.trustkit_rules") == "pingen.render"
    assert boundary_of("cryptography.x509.oid") == "cryptography"
    assert boundary_of("pingen.renderer") is None
    assert boundary_of("json") is None


def test_every_package_folder_is_installed() -> None:
    """pyproject.toml lists the packages by name (gen/ is installed as `pingen`): a stage
    package missing there imports from the work tree but not from an installed copy."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(project["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(["pingen", *init.parent.relative_to(PACKAGE).parts]).rstrip(".")
        for init in PACKAGE.rglob("__init__.py")
    }
    assert folders - listed == set()


def commands_importing_commands(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Edges from one command to another: what two commands share belongs in a stage
    package or in pingen.commands.options, so each command reads alone."""
    return sorted(
        (module, target)
        for module, targets in graph.items()
        if module.startswith("pingen.commands.")
        for target in targets
        if target.startswith("pingen.commands.") and target != "pingen.commands.options"
    )


def test_no_command_imports_another() -> None:
    assert commands_importing_commands(import_graph()) == []


def test_the_command_check_finds_one() -> None:
    graph = {"pingen.commands.init": {"pingen.commands.suggest", "pingen.commands.options"}}
    assert commands_importing_commands(graph) == [
        ("pingen.commands.init", "pingen.commands.suggest")
    ]
