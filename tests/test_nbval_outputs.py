"""tools/nbval_outputs.py: which notebook cells nbval compares, marking them, and what of their outputs is stored.

The table is checked against the notebooks as they are, the marking and the output filter on small notebooks
built here (no kernel); one slow test stores and checks a three-cell notebook end to end (one kernel per run).
``test_the_notebook_stores_what_nbval_compares`` fails until ``make nbval-outputs`` has stored the marked cells.
"""

import copy
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("nbval_outputs", ROOT / "tools" / "nbval_outputs.py")
nbo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbo)


def _nb(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_find_cells_picks_each_piece_once_and_by_whole_line():
    nb = _nb("x = 1", "rc", "display(rc5)", "table = report.beside_paper(runs)\ntable")
    assert nbo.find_cells(nb, ("\nrc\n", "report.beside_paper(")) == [2, 4]
    with pytest.raises(nbo.CellNotFound, match=r"'absent\(' is in no code cell"):
        nbo.find_cells(nb, ("absent(",), name="nb")
    with pytest.raises(nbo.CellNotFound, match=r"'rc' is in 2 code cells \(\[2, 3\]\)"):
        nbo.find_cells(nb, ("rc",), name="nb")


def test_find_cells_ignores_markdown():
    nb = _nb("rc")
    nb.cells[0].source = "rc"
    assert nbo.find_cells(nb, ("\nrc\n",)) == [1]


def test_mark_is_idempotent_and_first_line_only():
    nb = _nb("a = 1", "b = 2", "print(3)  # NBVAL_CHECK_OUTPUT later in the line")
    assert nbo.mark(nb, [1, 3]) == 2
    once = copy.deepcopy(nb)
    assert nbo.mark(nb, [1, 3]) == 0
    assert nb == once
    assert nb.cells[1].source == "# NBVAL_CHECK_OUTPUT\na = 1"
    assert nb.cells[3].source.startswith("# NBVAL_CHECK_OUTPUT\nprint(3)")
    assert not nbo.is_marked(nb.cells[2])
    assert nbo.find_cells(nb, ("a = 1",)) == [1]  # a marked cell is still found by its piece


def test_text_outputs_keeps_stdout_and_text_drops_images_stderr_errors():
    outs = [
        nbformat.v4.new_output("stream", name="stdout", text="table\n"),
        nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
        nbformat.v4.new_output(
            "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure size 1x1>"}, metadata={"a": 1}
        ),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"}),
        nbformat.v4.new_output(
            "execute_result", data={"text/html": "<table/>", "text/plain": "   x\n0  1"}, execution_count=7
        ),
        nbformat.v4.new_output("error", ename="E", evalue="v", traceback=[]),
    ]
    kept = nbo.text_outputs(outs)
    # a figure goes whole, its "<Figure …>" text too: under MPLBACKEND=Agg (make test) nbval's kernel shows none
    assert [o["output_type"] for o in kept] == ["stream", "execute_result"]
    assert kept[0] == {"output_type": "stream", "name": "stdout", "text": "table\n"}
    assert kept[1]["data"] == {"text/html": "<table/>", "text/plain": "   x\n0  1"} and kept[1]["metadata"] == {}
    assert kept[1]["execution_count"] == 7


def test_comparable_sees_a_changed_number_and_applies_the_sanitize_pairs():
    a = [nbformat.v4.new_output("stream", name="stdout", text="ERR 4.42 %\n")]
    b = [nbformat.v4.new_output("stream", name="stdout", text="ERR 4.43 %\n")]
    assert nbo.comparable(a, []) != nbo.comparable(b, [])
    split = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in ("ERR ", "4.42 %\n")]
    assert nbo.comparable(split, []) == nbo.comparable(a, [])  # streams are joined, as nbval does
    styler = [nbformat.v4.new_output("display_data", data={"text/html": '<style id="T_1a2b3"></style>'})]
    other = [nbformat.v4.new_output("display_data", data={"text/html": '<style id="T_9f8e7"></style>'})]
    patterns = [(r"T_[0-9a-f]{5}", "T_ID")]
    assert nbo.comparable(styler, patterns) == nbo.comparable(other, patterns)
    assert nbo.comparable(styler, []) != nbo.comparable(other, [])


def test_sanitize_file_parses_with_nbvals_format(tmp_path):
    cfg = tmp_path / "s.cfg"
    cfg.write_text("[styler]\nregex: T_[0-9a-f]{5}\nreplace: T_ID\n", encoding="utf-8")
    assert nbo.sanitize_patterns(cfg) == [("T_[0-9a-f]{5}", "T_ID")]
    assert nbo.sanitize_patterns(tmp_path / "absent.cfg") == []


@pytest.mark.parametrize("stem", sorted(nbo.CHECKED))
def test_every_piece_in_the_table_picks_one_cell_of_the_notebook(stem):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    cells = nbo.find_cells(nb, nbo.CHECKED[stem], name=stem)
    assert len(cells) == len(nbo.CHECKED[stem]), f"{stem}: two pieces pick the same cell"
    for piece in nbo.NOT_CHECKED.get(stem, {}):
        assert nbo.find_cells(nb, (piece,), name=stem)[0] not in cells, f"{stem}: {piece!r} is both compared and not"


def test_at_least_ten_notebooks_have_compared_cells():
    notebooks = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert len(set(nbo.CHECKED) & notebooks) >= 10


@pytest.mark.parametrize("stem", sorted(nbo.CHECKED))
def test_the_notebook_stores_what_nbval_compares(stem):
    """Marked cells are exactly the table's, each with a stored run; `python tools/nbval_outputs.py NN` fixes it."""
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    cells = nbo.find_cells(nb, nbo.CHECKED[stem], name=stem)
    marked = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and nbo.is_marked(c)]
    fix = f"run `.venv/bin/python tools/nbval_outputs.py {stem[:2]}`"
    assert marked == cells, f"{stem}: cells marked {marked}, the table's {cells}: {fix}"
    unrun = [i for i in cells if nb.cells[i].execution_count is None]
    assert not unrun, f"{stem}: cells {unrun} are marked but store no run, so nbval compares nothing: {fix}"
    for i in cells:
        for out in nb.cells[i].outputs:
            assert not any(k.startswith("image/") for k in out.get("data", {})), f"{stem}: cell {i} stores an image"


@pytest.mark.slow
def test_store_writes_only_the_marked_cells_and_check_sees_a_change(tmp_path, monkeypatch):
    """End to end on a three-cell notebook (one kernel per run): store, check, tamper, check again."""
    path = tmp_path / "99_tiny.ipynb"
    nb = _nb("x = 6 * 7", "print(x)\nx", "print('not compared')")
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept as it was\n")]
    nbformat.write(nb, path)
    monkeypatch.setitem(nbo.CHECKED, "99_tiny", ("print(x)",))
    assert nbo.store(path, tmp_path / "run") == [2]
    after = nbformat.read(path, as_version=4)
    assert after.cells[2].source == "# NBVAL_CHECK_OUTPUT\nprint(x)\nx" and after.cells[2].execution_count == 2
    assert [o.output_type for o in after.cells[2].outputs] == ["stream", "execute_result"]
    assert after.cells[2].outputs[0].text == "42\n" and after.cells[2].outputs[1].data == {"text/plain": "42"}
    assert after.cells[1].outputs == [] and after.cells[1].execution_count is None  # not marked: untouched
    assert after.cells[3].outputs[0].text == "kept as it was\n"
    assert nbo.check(path, tmp_path / "check") == []
    after.cells[2].outputs[0].text = "43\n"
    nbformat.write(after, path)
    assert "cell 2 differs" in nbo.check(path, tmp_path / "check2")[0]


def test_storing_the_ledger_alone_needs_every_chapters_evidence(tmp_path, monkeypatch):
    """12_ledger's stored table is the table of the chapters' smoke evidence: storing it on a checkout where the
    chapters never ran (a fresh machine) would store a partial build's table, which CI then fails on."""
    monkeypatch.setattr(nbo, "RESULTS", tmp_path)
    assert nbo.ledger_inputs_missing(["04_natural"]) == []  # not storing the ledger: nothing needed
    missing = nbo.ledger_inputs_missing(["12_ledger"])
    assert "00_theorems" in missing and "11_robustness" in missing and "09_timing" not in missing
    assert nbo.ledger_inputs_missing(list(nbo.CHECKED)) == []  # every chapter runs before it
    with pytest.raises(SystemExit, match="12_ledger reads the smoke evidence every chapter leaves"):
        nbo.main(["12"])
    folder = tmp_path / "smoke" / "ledger"
    folder.mkdir(parents=True)
    for c in missing:
        (folder / f"{c}.json").write_text("{}")
    assert nbo.ledger_inputs_missing(["12_ledger"]) == []
