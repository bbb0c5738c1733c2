"""The library's structure: no import cycle (imports inside functions included), names defined once."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import zmixlib

PACKAGE = Path(zmixlib.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every zmixlib module ``path`` imports, at any depth of the file (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    graph = {name: _imports(path, name, known) for name, path in mods.items()}
    # importing a package runs its __init__, but ``from zmixlib import x`` names a submodule: the package
    # itself (``zmixlib``, whose __init__ imports lazily) is not an edge
    return {n: {t for t in deps if t != "zmixlib"} for n, deps in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_zmixlib():
    graph = import_graph()
    assert "zmixlib.engine.runspec" in graph and "zmixlib.engine.train" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


#: zmixlib's layers, lowest first: a module may import its own layer and the layers of a lower rank, never a higher
#: one; layers of one rank do not import each other. The top (``zmixlib/*.py``: the package, ``__main__``, ``cli``)
#: may import anything.
LAYERS: dict[str, int] = {
    "core": 0,
    "mixing": 1,
    "data": 2,
    "analysis": 3,
    "engine": 3,
    "protocol": 4,
    "bench": 5,
    "tables": 5,
    "chapters": 6,
    "site": 7,
}
#: the most top-level modules zmixlib may have (issue 29: ``__init__``, ``__main__``, ``cli``, and room for few more)
MAX_TOP_LEVEL = 6


def layer_of(module: str) -> str | None:
    """The layer (package) a module belongs to, ``None`` for a top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for n, deps in sorted(graph.items()):
        src = layer_of(n)
        if src is None:
            continue
        for d in sorted(deps):
            dst = layer_of(d)
            if dst is None:
                out.append(f"{n} imports the top-level module {d}")
            elif dst != src and LAYERS[dst] >= LAYERS[src]:
                out.append(f"{n} ({src}) imports {d} ({dst}): not a lower layer")
    return out


def test_layer_check_catches_an_upward_and_a_sideways_import():
    assert layer_violations({"zmixlib.core.vocab": {"zmixlib.engine.train"}})
    assert layer_violations({"zmixlib.engine.train": {"zmixlib.analysis.stats"}})  # same rank, other layer
    assert layer_violations({"zmixlib.mixing.zeta": {"zmixlib.cli"}})
    assert not layer_violations({"zmixlib.engine.train": {"zmixlib.mixing", "zmixlib.core.util", "zmixlib.engine"}})
    assert not layer_violations({"zmixlib.cli": {"zmixlib.site.book"}})


def test_layers_point_downward():
    graph = import_graph()
    assert {layer_of(n) for n in graph} - {None} == set(LAYERS), "every layer is a package of zmixlib"
    assert not layer_violations(graph), "\n".join(layer_violations(graph))


def test_few_top_level_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS), packages ^ set(LAYERS)


def test_every_layer_says_what_it_holds():
    for layer in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"zmixlib/{layer}/__init__.py has no docstring saying what it holds"


def _source_without_docstrings(path: Path) -> str:
    return re.sub(r'"""[\s\S]*?"""', "", path.read_text(encoding="utf-8"))


def test_vocabulary_defined_once():
    """Display names, colours and paper spellings of methods live in zmixlib.core.vocab only; γ_min in theory."""
    offenders = []
    for name, path in _modules().items():
        if name in ("zmixlib.core.vocab",):
            continue
        text = _source_without_docstrings(path)
        if re.search(r'"zeta_mixup"\s*:\s*"(#|ζ|zeta-mixup)', text):
            offenders.append(f"{name}: a method table")
        if name != "zmixlib.core.theory" and re.search(r"^GAMMA_MIN\s*=", text, re.M):
            offenders.append(f"{name}: GAMMA_MIN defined")
    assert not offenders, offenders


def test_one_atomic_writer_and_thread_helper():
    offenders = []
    for name, path in _modules().items():
        if name == "zmixlib.core.util":
            continue
        text = _source_without_docstrings(path)
        if "os.replace(" in text:
            offenders.append(f"{name}: its own atomic write")
        if re.search(r"def _?torch_threads\(", text):
            offenders.append(f"{name}: its own torch_threads")
        if "class _nullcontext" in text:
            offenders.append(f"{name}: a copy of contextlib.nullcontext")
    assert not offenders, offenders


def test_every_chapter_follows_the_chapter_rule():
    """Notebook ``NN_name`` ⇒ ``zmixlib/chapters/name.py`` (or the package ``chapters/name/``), and the notebook
    imports its chapter module; every chapter module belongs to a notebook."""
    notebooks = sorted((PACKAGE.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) == 13
    chapters = PACKAGE / "chapters"
    names = set()
    for nb in notebooks:
        name = nb.stem[3:]
        names.add(name)
        assert (chapters / f"{name}.py").exists() or (chapters / name / "__init__.py").exists(), nb.name
        source = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"])
        assert re.search(rf"from zmixlib\.chapters import [^\n]*\b{name}\b", source), f"{nb.name} imports {name}?"
    modules = {p.stem for p in chapters.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in chapters.iterdir() if (p / "__init__.py").exists()}
    assert modules == names, modules ^ names


def test_notebooks_04_to_08_call_their_chapter_not_the_layers_below():
    """Issue 29: every cell of the training chapters is a call of its chapter module (as 09–11 always were)."""
    offenders = []
    for nb in sorted((PACKAGE.parent / "notebooks").glob("0[4-8]_*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and re.search(r"\b(recipes|report|paper)\.", src):
                offenders.append(f"{nb.name} cell {i}")
    assert not offenders, offenders
