"""The notebooks' compared cells: which cells nbval checks, marking them, storing and checking their outputs.

    .venv/bin/python tools/nbval_outputs.py                    # mark + store outputs in every notebook of CHECKED
    .venv/bin/python tools/nbval_outputs.py 04 12              # the same, notebooks 04 and 12 only
    .venv/bin/python tools/nbval_outputs.py --check [NN ...]   # exit 1 if a stored output differs from a fresh run
    .venv/bin/python tools/nbval_outputs.py --list             # the table below, resolved to cell numbers

``make test`` runs nbval with ``--nbval-lax``: a cell's outputs are compared only when its first line is
``# NBVAL_CHECK_OUTPUT`` and the notebook stores them. :data:`CHECKED` names, per notebook, its deterministic
result cells at the smoke profile (tables, the regime check, the ledger's rows) by a piece of their source (the
chapter call), not by position, so a cell added above one does not move the mark. Storing executes the notebook at
its defaults (smoke) with the book's runner (:func:`zmixlib.site.bookrun.execute`) in a temporary folder and writes
back into the source notebook only the marked cells' outputs and execution counts: stdout and the text
representations (``text/plain``, ``text/html``, ``text/markdown``, ``text/latex``); never images (nbval does not
compare them) and never another cell's source or outputs. ``--check`` compares what is stored with a fresh run
after the regex/replace pairs of ``tests/nbval_sanitize.cfg``, as nbval does.

Cells whose text holds timings, dates, machine names, paths or run ids built from the time are not in the table;
:data:`NOT_CHECKED` says which and why, so a chapter that moves such a line out of a result cell can add it.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

MARK = "# NBVAL_CHECK_OUTPUT"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SANITIZE = Path(__file__).resolve().parents[1] / "tests" / "nbval_sanitize.cfg"
#: the project's results folder, where the smoke chapters leave the ledger's evidence (results/smoke/ledger/)
RESULTS = Path(__file__).resolve().parents[1] / "results"
#: What is kept of a marked cell's display outputs: the text representations nbval compares (images it skips).
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex")

#: notebook stem -> the pieces of source that pick its compared cells (each must match exactly one code cell).
CHECKED: dict[str, tuple[str, ...]] = {
    "00_theorems": (
        "g_min = theory.gamma_min()",
        "theorems.threshold_table(",
        "theorems.weight_assignments(",
        "theorems.ordering_counts()",
        'ledger.record_claims("00_theorems"',
    ),
    "01_synthetic_manifolds": (
        "synthetic_manifolds.realism_tables(",
        "synthetic_manifolds.helix_study(",
        "synthetic_manifolds.grid_study(",
        "geometry.disagreement_table(",
        'ledger.record_claims("01_synthetic_manifolds"',
    ),
    "02_realism": ('ledger.record_claims("02_realism"',),
    "03_intrinsic_dimension": (
        "idim.chapter_data(P)",
        "idim.fig6_table(",
        "idim.midl(",
        'ledger.record_claims("03_intrinsic_dimension"',
    ),
    "04_natural": (
        # the regime check, Table 4 beside the paper, the seed-paired summaries, Table 5, the ledger's rows
        "\nrc\n",
        "natural.paper_differences(runs)",
        "display(rc5)",
        "natural.cutmix_pairs(runs5)",
        'ledger.record_claims(\n    "04_natural"',
    ),
    "05_skin": (
        "\nrc\n",
        'skin.beside_paper(runs, profile=P.profile, metric="ACC_bal_percent")',
        'for metric in ("F1_micro", "F1_macro")',
        "skin.paper_differences(runs)",
        'skin.paired(runs, metric="ACC_bal_percent")',
        "skin.fig8_paper_table()",
        'ledger.record_claims(\n    "05_skin"',
    ),
    "06_medmnist": (
        "medmnist.paper_table7()",
        "\nrc\n",
        'ledger.record_claims("06_medmnist"',
    ),
    "07_sensitivity": (
        "\nrc\n",
        "sensitivity.curve_stats(",
        "sensitivity.search_bands(",
        "sensitivity.checks(curve, search)",
        'ledger.record_claims(\n    "07_sensitivity"',
    ),
    "08_ablation": (
        "\nrc\n",
        "ablation.table(runs, profile=P.profile)",
        "ablation.paired(runs)",
        'ledger.record_claims("08_ablation"',
    ),
    "10_peers": (
        "\nsweep.board_regime\n",
        "peers.uci_table(uci)",
        "peers.uci_diffs(uci)",
        "peers.show_table1(sweep, P)",
        "sweep.multimix_regime",
        "peers.table2(",
        "multimix_pairs = pd.concat(",
        "sweep.fig9_regime",
        'ledger.record_claims(\n    "10_peers"',
    ),
    "11_robustness": (
        "\nsweep.board_regime\n",
        "robustness.curves(sweep.robust)",
        "robustness.beside_paper(sweep.robust, points)",
        "\nsweep.mnist_regime\n",
        "robustness.mnist_table(",
        "robustness.mnist_beside_paper(",
        'ledger.record_claims(\n    "11_robustness"',
    ),
    "12_ledger": (
        # the ledger's rows (chapter 09's measured timing rows are left out by tests/nbval_sanitize.cfg) and the
        # self-check of every rule on the papers' own numbers
        "ledger.compact_html(claims)",
        'checked.assign(ok=checked["ok"]',
        "peers.uci_xi_by_scaling(",
    ),
}

#: notebook stem -> {piece of source: why the cell is not compared (and the line that would have to move)}.
#: Why a table of models trained at smoke size is not compared: its numbers depend on the CPU. With the same lock
#: (torch 2.14.1), the machine that stored these outputs and an Intel Xeon with AVX-512 (2026-12-06) train the same
#: runs to different weights in the last bits, and a few-epoch model then flips a test prediction: chapter 04's
#: smoke ζ-mixup ERR on digits reads 3.12 on one and 2.34 on the other, at the same commit. nbval would pass or fail
#: by the machine CI draws. What these cells compute is tested without training (tests/test_report.py, the
#: chapters' tests) and training itself by tests/test_train_target.py.
_CPU_DEPENDENT = "numbers of models trained at smoke size differ between CPUs (the comment above _CPU_DEPENDENT in tools/nbval_outputs.py)"

NOT_CHECKED: dict[str, dict[str, str]] = {
    "02_realism": {
        "realism.print_label_errors(": _CPU_DEPENDENT + ": the oracle is trained",
        "realism.summary_tables(": _CPU_DEPENDENT + ": the oracle is trained",
        "realism.realistic_table(": _CPU_DEPENDENT + ": the oracle is trained",
        "realism.claims_table(": _CPU_DEPENDENT + ": the oracle is trained",
        "realism.chapter_oracle(": "prints the oracle's training time ('trained in 32 s'): zmixlib/chapters/realism",
    },
    "03_intrinsic_dimension": {
        "idim.skdim_check(": "its table has the seconds_ours / seconds_skdim columns",
        "idim.benchmark(": "a timing (local_id vs skdim seconds, the load average)",
    },
    "04_natural": {
        "natural.train(P)": "train_checked prints the results path and seconds of training",
        "natural.train_cutmix(P)": "the same",
        "natural.beside_paper(runs, profile=P.profile)": _CPU_DEPENDENT,
        "natural.summary_vs_baselines(runs)": _CPU_DEPENDENT,
        "natural.paired_table(pairs)": _CPU_DEPENDENT,
    },
    "05_skin": {
        "skin.train(P)": "train_checked prints the results path and seconds of training",
        "skin.chapter_neighbourhoods(": _CPU_DEPENDENT + ": the kNN counts of trained features",
    },
    "06_medmnist": {
        "medmnist.train(P)": "train_checked prints the results path and seconds of training",
        "medmnist.epoch_choice(": _CPU_DEPENDENT,
        "medmnist.paired_diffs(": _CPU_DEPENDENT,
    },
    "07_sensitivity": {"sensitivity.train_chapter(P)": "prints the results path and seconds of training"},
    "08_ablation": {"ablation.train(P)": "train_checked prints the results path and seconds of training"},
    "09_timing": {
        "timing.run_table9(P)": "every result of chapter 09 is a timing on this machine",
        "timing.setup_machine(P)": "the machine's name, cores and load",
    },
    "10_peers": {
        "peers.train_chapter(P)": "prints the results path and seconds of training",
        "peers.leaderboard(": "its 'time / epoch vs ERM' column: zmixlib/chapters/peers (leaderboard) — move the timing "
        "to its own table and the rest can be compared",
        "peers.uci_run(": "prints the results path and seconds of training",
        "peers.show_fig9(": "its 'cost ratio (wall time)' column: zmixlib/chapters/peers (show_fig9)",
        "peers.time_lsi(P)": "a timing",
    },
    "11_robustness": {
        "robustness.describe(sweep, P)": "prints the evaluation's wall time and the results path: "
        "zmixlib/chapters/robustness/chapter.py, the line 'evaluation this build: … s wall'",
        "robustness.train_chapter(P)": "prints the results path and seconds of training",
    },
    "12_ledger": {"ledger.details_html(claims)": "chapter 09's timing claims' details (measured ratios) are in it"},
}


class CellNotFound(LookupError):
    """A piece of source in :data:`CHECKED` matches no code cell, or several."""


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def find_cells(nb: Any, pieces: tuple[str, ...], *, name: str = "notebook") -> list[int]:
    """Indices of the code cells picked by ``pieces``: each piece must be in exactly one code cell's source.

    The source is searched with a newline added at both ends, so ``"\\nrc\\n"`` picks the cell with a line ``rc``.

    Raises ``CellNotFound`` naming the notebook and the piece when one matches none or several.
    """
    found = []
    for piece in pieces:
        hits = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and piece in f"\n{_source(c)}\n"]
        if len(hits) != 1:
            where = "no code cell" if not hits else f"{len(hits)} code cells ({hits})"
            raise CellNotFound(f"{name}: {piece!r} is in {where}; CHECKED needs exactly one (tools/nbval_outputs.py)")
        found.append(hits[0])
    return sorted(set(found))


def is_marked(cell: Any) -> bool:
    """Whether the cell's first line is the nbval marker."""
    return _source(cell).split("\n", 1)[0].strip() == MARK


def mark(nb: Any, indices: list[int]) -> int:
    """Put :data:`MARK` as the first line of each cell in ``indices`` that lacks it; returns how many changed."""
    changed = 0
    for i in indices:
        cell = nb["cells"][i]
        if not is_marked(cell):
            cell["source"] = f"{MARK}\n{_source(cell)}"
            changed += 1
    return changed


def text_outputs(outputs: list[Any]) -> list[dict[str, Any]]:
    """The outputs nbval is to compare: stdout streams and the text representations of results and displays.

    stderr and errors are dropped (the book's runner refuses a notebook that writes either), figures whole (an
    output with an image: under ``MPLBACKEND=Agg``, as ``make test`` runs nbval, a kernel displays no figure, so
    their text repr must not be compared), and a display left with no text representation; metadata is emptied.
    """
    kept: list[dict[str, Any]] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            kept.append({"output_type": "stream", "name": "stdout", "text": out["text"]})
        elif kind in ("execute_result", "display_data"):
            if any(k.startswith("image/") for k in out.get("data", {})):
                continue  # a figure: its "<Figure size …>" text exists only where a kernel displays figures inline
            data = {k: v for k, v in out.get("data", {}).items() if k in TEXT_MIME}
            if not data:
                continue
            new = {"output_type": kind, "data": data, "metadata": {}}
            if kind == "execute_result":
                new["execution_count"] = out.get("execution_count")
            kept.append(new)
    return kept


def sanitize_patterns(path: Path = SANITIZE) -> list[tuple[str, str]]:
    """The regex/replace pairs of nbval's ``--nbval-sanitize-with`` file (nbval's own format and parser)."""
    if not path.exists():
        return []
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


def comparable(outputs: list[Any], patterns: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Outputs reduced to what nbval compares: (kind, mime or stream, sanitized text), streams joined."""
    rows: list[tuple[str, str, str]] = []
    for out in text_outputs(outputs):
        if out["output_type"] == "stream":
            items = [("stream", "stdout", _source({"source": out["text"]}))]
        else:
            items = [("data", k, _source({"source": v})) for k, v in sorted(out["data"].items())]
        for kind, key, text in items:
            for regex, replace in patterns:
                text = re.sub(regex, replace, text)
            if kind == "stream" and rows and rows[-1][:2] == (kind, key):
                rows[-1] = (kind, key, rows[-1][2] + text)
            else:
                rows.append((kind, key, text))
    return rows


def execute_copy(nb: Any, name: str, workdir: Path) -> Any:
    """Execute ``nb`` (a marked copy) at its defaults with the book's runner in ``workdir``; the executed notebook."""
    import nbformat

    from zmixlib.site import bookrun

    src = workdir / "src" / f"{name}.ipynb"
    src.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.from_dict(nb), src)
    done = bookrun.execute(src, {}, workdir / "out", failed_dir=workdir / "failed", log_output=False)
    return nbformat.read(done.path, as_version=4)


def _paired(src: Any, ran: Any, name: str) -> None:
    if len(src["cells"]) != len(ran["cells"]) or any(
        _source(a) != _source(b) for a, b in zip(src["cells"], ran["cells"]) if a["cell_type"] == "code"
    ):
        raise RuntimeError(f"{name}: the executed copy's cells do not line up with the source's (papermill?)")


def notebook_path(stem_or_number: str) -> Path:
    """``04`` or ``04_natural`` -> notebooks/04_natural.ipynb (an error naming what exists otherwise)."""
    hits = sorted(NOTEBOOKS.glob(f"{stem_or_number}*.ipynb"))
    if len(hits) != 1:
        have = ", ".join(p.stem for p in sorted(NOTEBOOKS.glob("*.ipynb")))
        raise SystemExit(f"notebook {stem_or_number!r}: {len(hits)} matches in {NOTEBOOKS} (there are: {have})")
    return hits[0]


def store(path: Path, workdir: Path) -> list[int]:
    """Mark the notebook's :data:`CHECKED` cells and store their outputs from a fresh smoke run; the cells."""
    import nbformat

    from zmixlib.core.util import atomic_write_text

    name = path.stem
    nb = nbformat.read(path, as_version=4)
    cells = find_cells(nb, CHECKED[name], name=name)
    mark(nb, cells)
    ran = execute_copy(copy.deepcopy(nb), name, workdir)
    _paired(nb, ran, name)
    # read again and touch only the marked cells, so a concurrent edit of another cell is not overwritten by
    # the copy read before the run (the marked cells' sources are re-checked)
    fresh = nbformat.read(path, as_version=4)
    now = find_cells(fresh, CHECKED[name], name=name)
    mark(fresh, now)
    for i_now, i in zip(now, cells):
        if _source(fresh.cells[i_now]) != _source(nb.cells[i]):
            raise RuntimeError(f"{name}: cell {i_now} changed while the notebook ran; run the tool again")
        fresh.cells[i_now].outputs = [nbformat.from_dict(o) for o in text_outputs(ran.cells[i].outputs)]
        fresh.cells[i_now].execution_count = ran.cells[i].execution_count
    atomic_write_text(path, nbformat.writes(fresh) + "\n")  # the files end with a newline
    return now


def check(path: Path, workdir: Path) -> list[str]:
    """Differences between the stored outputs of the marked cells and a fresh run; empty when they agree.

    Also a difference: a cell of :data:`CHECKED` not marked, or marked with no stored run (execution count None).
    """
    import nbformat

    name = path.stem
    nb = nbformat.read(path, as_version=4)
    cells = find_cells(nb, CHECKED[name], name=name)
    problems = [f"{name}: cell {i} is in CHECKED but not marked {MARK!r}" for i in cells if not is_marked(nb.cells[i])]
    problems += [
        f"{name}: cell {i} is marked but stores no run (execution count None): nbval would not compare it"
        for i in cells
        if nb.cells[i].execution_count is None
    ]
    ran = execute_copy(nb, name, workdir)
    _paired(nb, ran, name)
    patterns = sanitize_patterns()
    for i, (a, b) in enumerate(zip(nb.cells, ran.cells)):
        if a.cell_type == "code" and is_marked(a):
            want, got = comparable(a.outputs, patterns), comparable(b.outputs, patterns)
            if want != got:
                problems.append(f"{name}: cell {i} differs (- stored, + fresh)\n" + _diff(want, got))
    return problems


def _diff(want: list[tuple[str, str, str]], got: list[tuple[str, str, str]], limit: int = 20) -> str:
    """The changed lines of two :func:`comparable` lists, at most ``limit`` of them."""
    a = [f"[{kind} {key}] {line}" for kind, key, text in want for line in text.splitlines()]
    b = [f"[{kind} {key}] {line}" for kind, key, text in got for line in text.splitlines()]
    lines = [x for x in difflib.unified_diff(a, b, lineterm="", n=0) if not x.startswith(("---", "+++", "@@"))]
    return "\n".join("  " + x for x in lines[:limit]) + (
        f"\n  … {len(lines) - limit} more" if len(lines) > limit else ""
    )


def ledger_inputs_missing(stems: list[str], results: Path | None = None) -> list[str]:
    """The chapters whose smoke evidence 12_ledger would miss when ``stems`` (the notebooks to run, in order) store
    it: those neither run before it in ``stems`` nor present under ``results/smoke/ledger/``. Empty when 12_ledger
    is not among ``stems``."""
    if "12_ledger" not in stems:
        return []
    folder = (results or RESULTS) / "smoke" / "ledger"
    before = set(stems[: stems.index("12_ledger")])
    from zmixlib.chapters.ledger import CLAIMS

    chapters = sorted({c.chapter for c in CLAIMS} & set(CHECKED))  # 09's rows are timings, not compared
    return [c for c in chapters if c not in before and not (folder / f"{c}.json").is_file()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="numbers or stems (default: every notebook in CHECKED)")
    ap.add_argument("--check", action="store_true", help="compare stored outputs with a fresh run; exit 1 on a change")
    ap.add_argument("--list", action="store_true", help="print the compared cells per notebook and exit")
    ap.add_argument("--workdir", type=Path, default=None, help="where the copies run (default: a temporary folder)")
    args = ap.parse_args(argv)
    paths = [notebook_path(n) for n in args.notebooks] or [NOTEBOOKS / f"{stem}.ipynb" for stem in CHECKED]
    unknown = [p.stem for p in paths if p.stem not in CHECKED]
    if unknown:
        raise SystemExit(f"no compared cells listed for {unknown} in CHECKED (tools/nbval_outputs.py)")
    if args.list:
        import nbformat

        for p in paths:
            nb = nbformat.read(p, as_version=4)
            cells = find_cells(nb, CHECKED[p.stem], name=p.stem)
            print(f"{p.stem}: cells {cells}, marked {[i for i in cells if is_marked(nb.cells[i])]}")
        return 0
    missing = ledger_inputs_missing([p.stem for p in paths])
    if missing:
        raise SystemExit(
            f"12_ledger reads the smoke evidence every chapter leaves under results/smoke/ledger/, and {missing} have "
            "none here (a new checkout): store the chapters first — tools/nbval_outputs.py with no argument runs "
            "them all in order — or the ledger's stored table is the table of a partial build"
        )
    from zmixlib.site.bookrun import NotebookFailed, NotebookNoisy

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="zmix-nbval-") as tmp:
        for p in paths:
            workdir = (args.workdir or Path(tmp)) / p.stem
            try:
                if args.check:
                    found = check(p, workdir)
                    problems += found
                    print(f"{p.stem}: {'differs' if found else 'stored outputs match a fresh run'}", flush=True)
                else:
                    print(f"{p.stem}: stored the outputs of cells {store(p, workdir)}", flush=True)
            except (NotebookFailed, NotebookNoisy, CellNotFound) as err:  # the next notebook still runs
                problems.append(f"{p.stem}: left unchanged — {err}")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
