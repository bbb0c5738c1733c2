"""mutation/report.py: a module this run did not check keeps its row and survivors from the earlier report, dated;
one it checked is written from mutants/; one never checked is "not run this session" and fails the gate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def report(monkeypatch):
    spec = importlib.util.spec_from_file_location("mutation_report", ROOT / "mutation" / "report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "modules", lambda: ["pkg/a.py", "pkg/b.py", "pkg/c.py"])
    monkeypatch.setattr(mod, "_mutmut_version", lambda: "test")
    monkeypatch.setattr(mod, "diff", lambda name: "+    x = 2")
    return mod


EARLIER = """# Mutation gate

Written by `mutation/report.py` after `make mutate`: mutmut 3.8.1, one worker, on a 2-CPU machine, 2026-12-06 04:59 UTC.

| module | mutants | killed | timed out | survived | of which equivalent | no tests | not checked | kill rate | verdict |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
| `pkg/a.py` | 10 | 9 | 0 | 1 | 1 | 0 | 0 | 100.0% (90.0% of all) | passes |
| `pkg/b.py` | 10 | 5 | 0 | 5 | 0 | 0 | 0 | 50.0% (50.0% of all) | FAILS |
| `pkg/c.py` | 7 | 0 | 0 | 0 | 0 | 0 | 7 | — | not run this session |

## Survivors

### `pkg/a.py`

- `pkg.a.x_f__mutmut_1`: equivalent — a reason

  ```diff
  +    y = 1
  ```
"""


def test_rows_not_run_now_are_carried_with_their_date(report, tmp_path, monkeypatch):
    out = tmp_path / "REPORT.md"
    out.write_text(EARLIER, encoding="utf-8")
    fresh = {f"pkg.b.x_g__mutmut_{i}": "killed" for i in range(10)}
    monkeypatch.setattr(report, "results", lambda m: fresh if m == "pkg/b.py" else {})
    text, ok = report.render(None, "make mutate MUTANTS=pkg.b*", keep=out)
    assert "| `pkg/a.py` | 10 | 9 | 0 | 1 | 1 | 0 | 0 | 100.0% (90.0% of all) | passes (carried: the run of " in text
    assert "2026-12-06 04:59) |" in text
    assert "| `pkg/b.py` | 10 | 10 | 0 | 0 | 0 | 0 | 0 | 100.0% (100.0% of all) | passes |" in text  # this run's
    assert "| `pkg/c.py` | — |" in text and "not run this session" in text  # never checked: not carried
    assert "### `pkg/a.py`" in text and "`pkg.a.x_f__mutmut_1`: equivalent — a reason" in text
    assert not ok  # c was never run: the gate does not pass
    # carried again by a run that checked nothing: each row keeps the date of the run that checked it
    out.write_text(text, encoding="utf-8")
    monkeypatch.setattr(report, "results", lambda m: {})
    again, _ = report.render(None, "make mutate", keep=out)
    assert again.count("(carried: the run of ") == 2
    assert "| passes (carried: the run of 2026-12-06 04:59) |" in again.split("`pkg/b.py`")[0]
    b_row = next(line for line in again.splitlines() if line.startswith("| `pkg/b.py`"))
    assert "(carried: the run of 2026-12-06 04:59)" not in b_row and "(carried: the run of 20" in b_row


def test_a_fresh_report_carries_nothing(report, tmp_path, monkeypatch):
    out = tmp_path / "REPORT.md"
    out.write_text(EARLIER, encoding="utf-8")
    monkeypatch.setattr(report, "results", lambda m: {})
    text, ok = report.render(None, "make mutate", keep=None)
    assert "carried" not in text and text.count("not run this session") == 3 and not ok
