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
    assert "zmixlib.runspec" in graph and "zmixlib.train" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layers_point_downward():
    graph = import_graph()
    engine = {"zmixlib.train", "zmixlib.sweep", "zmixlib.recipes", "zmixlib.cli", "zmixlib.store"}
    assert not (graph["zmixlib.runspec"] & engine), "runspec must import no engine code"
    for low in ("zmixlib.vocab", "zmixlib.theory", "zmixlib.runspec", "zmixlib.mixing", "zmixlib.models"):
        assert not graph[low] & {"zmixlib.train", "zmixlib.sweep", "zmixlib.recipes", "zmixlib.cli"}, low
    data = {n for n in graph if n.startswith("zmixlib.data")}
    for n in data:
        assert not graph[n] & engine, f"{n} imports the engine"


def _source_without_docstrings(path: Path) -> str:
    return re.sub(r'"""[\s\S]*?"""', "", path.read_text(encoding="utf-8"))


def test_vocabulary_defined_once():
    """Display names, colours and paper spellings of methods live in zmixlib.vocab only; γ_min in theory."""
    offenders = []
    for name, path in _modules().items():
        if name in ("zmixlib.vocab",):
            continue
        text = _source_without_docstrings(path)
        if re.search(r'"zeta_mixup"\s*:\s*"(#|ζ|zeta-mixup)', text):
            offenders.append(f"{name}: a method table")
        if name != "zmixlib.theory" and re.search(r"^GAMMA_MIN\s*=", text, re.M):
            offenders.append(f"{name}: GAMMA_MIN defined")
    assert not offenders, offenders


def test_one_atomic_writer_and_thread_helper():
    offenders = []
    for name, path in _modules().items():
        if name == "zmixlib._util":
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
