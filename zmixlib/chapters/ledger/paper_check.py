"""The self-check: every rule run on the papers' own numbers (``paper_results.csv``), and on the same numbers with
the compared methods swapped — a rule judges this build's runs only after it has judged the papers'.

A claim is **checkable** when the papers print numbers that decide it under its rule
(:attr:`.claims.Claim.paper_supports` ``True``): its row passes only if the rule reproduces it on those numbers and
contradicts it (or, for a value, does not reproduce it) when they are swapped. Every other claim is **not
checkable** — a picture without numbers, or numbers that do not decide it (its reason is shown) — and never counts
as passing; one whose numbers come out *reproduced* although its reason says they cannot fails the self-check (the
reason is then wrong)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from zmixlib.core.vocab import gamma_text

from .claims import _BY_ID, CLAIMS
from .rules import verdict

Z, M, E = "zeta-mixup", "mixup", "ERM"
#: the plausible runs behind each mean of Table 8 (the paper does not say; Table 4's means are of 3 runs)
ABLATION_N_PLAUSIBLE = (2, 3, 5)
#: kept for the chapters that name the ablation's assumed n (the middle of :data:`ABLATION_N_PLAUSIBLE`)
ABLATION_RUNS_ASSUMED = 3
#: trials behind each mean of the k-mixup paper's tables (its text: 20 Monte Carlo trials; 30 for Tables 6 and 7a)
KMIXUP_TRIALS = {"table1": 20, "table2": 20, "table6": 30, "table7a": 30, "table7b": 20}
#: runs behind each mean ± sd of the MultiMix paper's Tables 2 and 4
MULTIMIX_RUNS = 5


def _p(source: str) -> pd.DataFrame:
    from zmixlib.tables.paper import paper_table

    return paper_table(source)


def _cell(label: str, d: float, **kw: Any) -> dict[str, Any]:
    return {"label": label, "diffs": [float(d)], **kw}


def _se_cell(label: str, m1: float, se1: float, m2: float, se2: float, n: int, **kw: Any) -> dict[str, Any]:
    """A Welch cell from two means with the sd *of the mean* (the k-mixup paper's error bars) over ``n`` trials."""
    r = math.sqrt(n)
    return {"label": label, "welch": [float(m1), se1 * r, n, float(m2), se2 * r, n], **kw}


def _versus(
    df: pd.DataFrame, method: str, baseline: str, keys: Sequence[str], *, sign: float = 1.0, best: bool = False
) -> list[dict[str, Any]]:
    """Cells ``sign · (method − baseline)`` per ``keys``; ``best``: the method's best value over γ (sign > 0: min).
    Each cell carries ``vs`` (the baseline), ``unit`` (its key and γ) and ``group`` (its key: cells of one key
    share the baseline's runs)."""
    out = []
    for key, g in df.groupby(list(keys), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        a, b = g.loc[g["method"] == method, "value"], g.loc[g["method"] == baseline, "value"]
        if a.empty or b.empty:
            continue
        vals = [sign * (x - b.iloc[0]) for x in a]
        name = ", ".join(map(str, key))
        for i, v in enumerate([min(vals)] if best else vals):
            unit = name if best else f"{name}, γ = {gamma_text(g.loc[g['method'] == method, 'gamma'].iloc[i])}"
            out.append(_cell(f"{unit} vs {baseline}", v, vs=baseline, unit=unit, group=name))
    return out


def _swap(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in cells:
        if "welch" in c:
            w = c["welch"]
            out.append(dict(c, welch=[*w[3:], *w[:3]]))
        elif "interval" in c:
            lo, hi = c["interval"]
            out.append(dict(c, interval=[-hi, -lo], mean=-c["mean"]))
        else:
            out.append(dict(c, diffs=[-d for d in c["diffs"]]))
    return out


def _sd_of(note: str) -> float:
    m = re.search(r"\+-\s*([0-9.]+)", str(note))
    return float(m.group(1)) if m else math.nan


def _seconds(text: str) -> float:
    main = str(text).split("+-")[0]
    h = re.search(r"(\d+)h", main)
    m = re.search(r"(\d+)m(?!s)", main)
    s = re.search(r"(\d+(?:\.\d+)?)s", main)
    return 3600 * float(h.group(1) if h else 0) + 60 * float(m.group(1) if m else 0) + float(s.group(1) if s else 0)


def _multimix_sd() -> dict[tuple[str, str, str], float]:
    df = _p("multimix-table2-sd")
    return {
        (r.dataset, r.arch, "zeta-mixup" if r.method.startswith("zeta-mixup") else r.method): float(r.value)
        for r in df.itertuples()
    }


#: the sds the MultiMix paper prints beside Table 2's means (5 runs), keyed (dataset, arch, method)
MULTIMIX_SD = _multimix_sd()


def _kmixup_se() -> dict[tuple[str, str], float]:
    return {(r.dataset, r.arch): float(r.value) for r in _p("kmixup-table1-confidence").itertuples()}


def _alpha(note: str) -> str:
    return str(note).split(";")[0].split(",")[0].strip()


def _grid(source: str, metric_prefix: str) -> pd.DataFrame:
    """A k-mixup robustness table as rows ``(method, alpha, eps, value)``."""
    df = _p(source)
    return df.assign(
        alpha=df["note"].map(_alpha),
        eps=df["metric"].str.removeprefix(metric_prefix),
    )


def _selection(text: str) -> dict[str, str]:
    return {"selection": f"the paper's own: {text}"}


def paper_evidence(claim_id: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """The papers' numbers as evidence for ``claim_id``'s rule, the same with the compared methods swapped
    (or, for a value, ratio or parity claim, moved off the paper's side), and what the swap is; ``None`` where the
    paper gives no numbers (a picture)."""
    claim = _BY_ID[claim_id]
    if claim_id == "gamma_min":
        v = float(_p("theorem-1")["value"].iloc[0])
        return (
            {"ours_value": v, "paper_value": v},
            {"ours_value": v + 10 * claim.need, "paper_value": v},
            "the paper's value moved by 10 × the tolerance",
        )
    cells: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = {}
    swap_text = "compared methods swapped"
    if claim_id == "local_id":  # MIDL: mean ± sd of the local ID over the 50,000 training points
        df = _p("midl-id").set_index(["dataset", "method"])
        pts = _p("zeta-id-text").set_index("dataset")["value"]
        cells = []
        for d in dict.fromkeys(df.index.get_level_values(0)):
            z, m, n = df.loc[(d, Z)], df.loc[(d, M)], int(pts[d])
            cells.append({"label": d, "welch": [z["value"], _sd_of(z["note"]), n, m["value"], _sd_of(m["note"]), n]})
        swap_text += " (Welch over points: the points' local IDs are not independent, so it overstates the precision)"
    elif claim_id == "local_id_gamma":  # the text's statements on Fig. 6: no numbers, the ordering only
        labels = ["ζ-mixup's local ID falls as γ grows (CIFAR-10/100)", "at large γ it drops below the data's own"]
        return (
            {"checks": [True, True], "check_names": labels},
            {"checks": [False, False], "check_names": labels},
            "the text's two statements on Fig. 6 negated (the figure's curves carry no numbers in the text)",
        )
    elif claim_id == "natural":
        df = _p("natural-table4")
        cells = [
            *_versus(df, Z, E, ["dataset"]),
            *_versus(df, Z, M, ["dataset"]),
        ]
    elif claim_id == "midl_table1":
        df = _p("midl-table1")
        cells = [
            dict(c, unit=c["group"]) for b in (E, M) for c in _versus(df, Z, b, ["dataset"])
        ]  # one γ ~ U per dataset
    elif claim_id == "cutmix_zeta":
        cells = _versus(_p("cutmix-table5"), "CutMix+zeta-mixup", "CutMix", ["dataset", "arch"])
    elif claim_id == "skin":
        df = pd.concat([_p("skin-tableA3"), _p("skin-table2")])
        df = df[df["metric"] == "ACC_bal_percent"]
        cells = [c for b in (E, M) for c in _versus(df, Z, b, ["dataset", "arch"], sign=-1.0, best=True)]
        extra = _selection("ζ-mixup's best γ per (dataset, architecture), as Tables 6 / A3 report it")
    elif claim_id == "skin_f1":
        df = _p("skin-tableA3")
        df = df[df["metric"].isin(["F1_micro", "F1_macro"])].assign(value=lambda d: d["value"] * 100)
        cells = [c for b in (E, M) for c in _versus(df, Z, b, ["dataset", "arch", "metric"], sign=-1.0, best=True)]
        extra = _selection("ζ-mixup's best γ per (dataset, architecture, metric), as Table A3 reports it")
    elif claim_id == "midl_table2":
        df = _p("midl-table2").assign(value=lambda d: d["value"] * 100)
        cells = [dict(c, unit=c["group"]) for b in (E, M) for c in _versus(df, Z, b, ["dataset", "arch"], sign=-1.0)]
    elif claim_id == "knn_neighbourhoods":  # the paper's counts over its 14 selected images per dataset
        df = _p("zeta-fig8-text")
        df = df[df["metric"] == "images_more_correct_knn"]
        cells = []
        for r in df.itertuples():
            k, n = int(r.value), int(re.search(r"of (\d+)", r.note).group(1))
            cells += [_cell(f"{r.dataset} #{i + 1}", -1.0 if i < k else 1.0) for i in range(n)]
        extra = {"population": "paper"}
        swap_text += " (the paper's images: signs only)"
    elif claim_id == "knn_gain":
        df = _p("zeta-fig8-text")
        df = df[df["metric"] == "correct_knn_more_percent"]
        ours = [
            {
                "key": "zeta/mixup correct neighbours",
                "label": f"{r.dataset}: ζ-mixup / mixup correct neighbours",
                "value": 1 + r.value / 100,
            }
            for r in df.itertuples()
        ]
        swapped = [dict(r, value=1.0 / r["value"]) for r in ours]
        return {"ratios": ours, "population": "paper"}, {"ratios": swapped, "population": "paper"}, swap_text
    elif claim_id == "medmnist":
        df = _p("medmnist-table7")
        df = df.assign(value=np.where(df["metric"] == "AUC", df["value"] * 100, df["value"]))
        cells = [
            dict(c, unit=c["label"], group=c["group"].split(",")[0])
            for b in (E, M)
            for c in _versus(df, Z, b, ["dataset", "metric"], sign=-1.0)
        ]
    elif claim_id in ("ablation", "ablation_t2"):
        df = _p("ablation-table8").set_index("method")
        names = {"zeta": Z, "mixup": M, "T2": "p-series weights, T=2", "Dir": "Dirichlet(1) weights, T=m"}
        row = {k: (df.loc[v, "value"], _sd_of(df.loc[v, "note"])) for k, v in names.items()}
        pairs = [("zeta", "mixup"), ("zeta", "T2"), ("zeta", "Dir")] if claim_id == "ablation" else [("T2", "mixup")]

        def comps(swapped: bool) -> list[dict[str, Any]]:
            out = []
            for a, b in pairs:
                a, b = (b, a) if swapped else (a, b)
                n = ABLATION_RUNS_ASSUMED
                out.append({"label": f"{a} − {b}", "welch": [*row[a], n, *row[b], n]})
            return out

        n = {"n_plausible": list(ABLATION_N_PLAUSIBLE)}
        return {"comparisons": comps(False), **n}, {"comparisons": comps(True), **n}, swap_text
    elif claim_id in ("speed", "midl_speed"):
        df = _p("timing-table9")
        t = df[df["metric"] == "augment_time_us"].set_index("method")["value"]
        ours = [{"key": "mixup/zeta", "label": "mixup / ζ-mixup", "value": t[M] / t[Z]}]
        if claim_id == "speed":
            ours.append({"key": "lsi/zeta", "label": "LSI / ζ-mixup", "value": t["local-synthetic-instances"] / t[Z]})
        else:  # the MIDL text's own figure beside the ratio of its Table A1 times
            stated = float(_p("midl-text").query("metric == 'speedup_vs_mixup'")["value"].iloc[0])
            ours.append({"key": "mixup/zeta", "label": "mixup / ζ-mixup, as the MIDL text states it", "value": stated})
        swapped = [dict(r, value=1.0 / r["value"]) for r in ours]
        return {"ratios": ours}, {"ratios": swapped}, swap_text
    elif claim_id == "train_time":
        df = _p("timing-table9")
        df = df[df["metric"].str.startswith("train_time_")]
        ours = []
        for d, g in df.groupby("dataset", sort=False):
            by = g.set_index("method")["value_text"]
            if Z in by and M in by:
                ours.append(
                    {"key": "zeta/mixup", "label": f"{d}: ζ-mixup / mixup", "value": _seconds(by[Z]) / _seconds(by[M])}
                )
        moved = [dict(r, value=r["value"] * 1.2) for r in ours]
        return {"ratios": ours}, {"ratios": moved}, "ζ-mixup's times made 20 % longer"
    elif claim_id in ("kmixup_table1", "kmixup_mnist_table1", "kmixup_16", "kmixup_magnitude"):
        df = _p("kmixup-table1").set_index(["dataset", "arch", "method"])["value"]
        se, n = _kmixup_se(), KMIXUP_TRIALS["table1"]
        K, ONE, SIXTEEN = "k-mixup (k, xi opt.)", "1-mixup (xi opt.)", "16-mixup (xi opt.)"
        rows = list(dict.fromkeys((d, a) for d, a, _ in df.index))
        sel = _selection("the best k and ξ of its grid per row, chosen on the test results as its Table 1 reports")
        if claim_id == "kmixup_magnitude":
            k_gain = np.mean([df[(d, a, ONE)] - df[(d, a, K)] for d, a in rows])
            one_gain = np.mean([df[(d, a, E)] - df[(d, a, ONE)] for d, a in rows])
            r = {"key": "gain ratio", "label": "mean gain of k-mixup over 1-mixup / of 1-mixup over ERM"}
            return (
                {"ratios": [dict(r, value=k_gain / one_gain)]},
                {"ratios": [dict(r, value=0.0)]},
                f"k-mixup's errors set to 1-mixup's (no gain; the paper's: {k_gain:.3f} vs {one_gain:.3f} points)",
            )
        method = SIXTEEN if claim_id == "kmixup_16" else K
        if claim_id == "kmixup_mnist_table1":
            rows = [r for r in rows if r[0] == "MNIST"]
        baselines = [ONE] if claim_id == "kmixup_table1" else [E, ONE]
        cells = []
        for d, a in rows:
            for b in baselines:
                vs = "1-mixup" if b == ONE else E
                cells.append(
                    _se_cell(
                        f"{d}, {a}: {method.split(' (')[0]} − {vs}",
                        df[(d, a, method)],
                        se[(d, a)],
                        df[(d, a, b)],
                        se[(d, a)],
                        n,
                        vs=vs,
                        unit=f"{d}, {a}",
                    )
                )
        extra = (
            _selection("the best ξ per row for 16-mixup and 1-mixup, chosen on the test results (Table 1)")
            if claim_id == "kmixup_16"
            else sel
        )
        swap_text += " (Welch per cell: the row's ± is one sd of the 20-trial mean)"
    elif claim_id == "kmixup_mnist_table2":
        df = _p("kmixup-table2").assign(alpha=lambda d: d["note"].map(_alpha))
        df = df.assign(k=df["method"].str.extract(r"^(\d+)-mixup")[0].astype(int))
        se, n = _sd_of(df["note"].iloc[0]), KMIXUP_TRIALS["table2"]
        cells = []
        for al, g in df.groupby("alpha", sort=False):
            one, more = g.loc[g["k"] == 1, "value"].iloc[0], g.loc[g["k"] > 1, "value"].min()
            cells.append(_se_cell(f"{al}: best k > 1 − k = 1", more, se, one, se, n))
        extra = _selection("the best k > 1 per ξ, chosen on the test results as its Table 2 reports")
    elif claim_id in ("kmixup_uci", "kmixup_arrhythmia"):
        df = _p("kmixup-table4")
        df = df.assign(k=df["method"].str.extract(r"^(\d+)-mixup")[0].astype(float))
        cells = []
        for d, g in df.groupby("dataset", sort=False):
            one, more = g.loc[g["k"] == 1, "value"].min(), g.loc[g["k"] > 1, "value"].min()
            erm = g.loc[g["method"] == E, "value"]
            if claim_id == "kmixup_uci":
                cells.append(_cell(f"{d}: best k > 1 − best k = 1", more - one))
            elif d == "Arrhythmia":
                cells.append(_cell(f"{d}: ERM − best mixup", erm.iloc[0] - min(one, more)))
        extra = _selection("the best k > 1 and the best k = 1 over its α grid, chosen on the test results (Table 4)")
    elif claim_id in ("multimix", "multimix_table2"):  # mean ± sd of 5 runs (Table 2); ERR = 100 − accuracy
        df = _p("multimix-table2")
        df = df.assign(method=df["method"].str.replace(r"^zeta-mixup.*", Z, regex=True)).set_index(
            ["dataset", "arch", "method"]
        )["value"]
        sd, n = MULTIMIX_SD, MULTIMIX_RUNS
        cells = []
        for d, a in dict.fromkeys((d, a) for d, a, _ in df.index):

            def w(x: str, y: str, d: str = d, a: str = a) -> list[float]:
                return [100 - df[(d, a, x)], sd[(d, a, x)], n, 100 - df[(d, a, y)], sd[(d, a, y)], n]

            if claim_id == "multimix":
                cells.append({"label": f"{d}, {a}", "welch": w("MultiMix", Z)})
                continue
            base = ["Baseline", "Manifold mixup", "PuzzleMix", "Co-Mixup", "AlignMixup", Z]
            best = max(base, key=lambda b: df[(d, a, b)])
            for x, y, vs in (
                ("MultiMix", best, "MultiMix − best baseline"),
                ("Dense MultiMix", best, "Dense MultiMix − best baseline"),
                ("Dense MultiMix", "MultiMix", "Dense MultiMix − MultiMix"),
            ):
                cells.append({"label": f"{d}, {a}: {vs} ({best})", "welch": w(x, y), "vs": vs, "unit": f"{d}, {a}"})
        if claim_id == "multimix_table2":
            extra = _selection("the best baseline per setting by its test accuracy (Table 2's underline)")
    elif claim_id in ("robust_multimix_fgsm", "robust_multimix_pgd"):
        atk = "FGSM" if claim_id.endswith("fgsm") else "PGD"
        df = _p("multimix-table4")
        df = df[df["metric"] == f"{atk}_err_percent"]
        df = df.assign(method=df["method"].str.replace(r"^zeta-mixup.*", Z, regex=True))
        others = {Z: "ζ-mixup", "Manifold mixup": "manifold mixup", "Baseline": "baseline"}
        cells = []
        for (d, a), g in df.groupby(["dataset", "arch"], sort=False):
            g = g.set_index("method")
            for x in ("MultiMix", "Dense MultiMix"):
                for y, name in others.items():
                    vs = f"{x} − {name}"
                    w = [g.loc[x, "value"], _sd_of(g.loc[x, "note"]), MULTIMIX_RUNS]
                    w += [g.loc[y, "value"], _sd_of(g.loc[y, "note"]), MULTIMIX_RUNS]
                    cells.append({"label": f"{d}, {a}: {vs}", "welch": w, "vs": vs, "unit": f"{d}, {a}"})
    elif claim_id == "kmixup_noise":
        df = _grid("kmixup-table6", "ERR_percent_noise_eps")
        se, n = _sd_of(df["note"].iloc[0]), KMIXUP_TRIALS["table6"]
        cells = []
        for eps, g in df.groupby("eps", sort=False):
            erm = g.loc[g["method"] == E, "value"].iloc[0]
            for al, h in g[g["method"] != E].groupby("alpha", sort=False):
                k16, k1 = (h.loc[h["method"] == f"{k}-mixup", "value"].iloc[0] for k in (16, 1))
                unit = f"ε = {eps}, {al}"
                for vs, base in ((E, erm), ("1-mixup", k1)):
                    cells.append(_se_cell(f"{unit}: 16 − {vs}", k16, se, base, se, n, vs=vs, unit=unit, group=al))
        swap_text += " (units sharing the α's models form one group in the sign test)"
    elif claim_id in ("kmixup_fgsm_cifar", "kmixup_fgsm_mnist"):
        table, k_hi = ("table7a", 16) if claim_id.endswith("cifar") else ("table7b", 32)
        df = _grid(f"kmixup-{table}", "ERR_percent_fgsm_eps")
        se, n = _sd_of(df["note"].iloc[0]), KMIXUP_TRIALS[table]
        cells = []
        for eps, g in df.groupby("eps", sort=False):
            hi, one = (g.loc[g["method"] == f"{k}-mixup", "value"].iloc[0] for k in (k_hi, 1))
            cells.append(_se_cell(f"ε = {eps}: k = {k_hi} − k = 1", hi, se, one, se, n, group="the same models"))
        swap_text += " (every ε attacks the same models: one group in the sign test)"
    elif claim_id == "manifold_counts":
        df = _p("zeta-fig9-text").set_index("method")["value"]
        sign = {
            "zeta-mixup better on all metrics": -1.0,
            "manifold mixup better on all metrics": 1.0,
            "manifold mixup better on one metric": 0.0,
        }
        cells = [_cell(f"{what} #{i + 1}", s) for what, s in sign.items() for i in range(int(df[what]))]
        swap_text += " (datasets by signs only)"
    if cells is None:
        return None
    return {"cells": cells, **extra}, {"cells": _swap(cells), **extra}, swap_text


def self_check() -> tuple[pd.DataFrame, bool]:
    """Every claim's rule on the papers' own numbers, and on the same numbers swapped.

    Returns:
        ``(frame, ok)``: one row per claim — its rule, ``checkable``, the verdict on the paper's numbers and its
        statistic, the verdict swapped, ``expected`` (what a checkable row must give, or why the row is not
        checkable), ``status`` (``"passes"``, ``"FAILS"`` or ``"not checkable"``) and ``ok`` (``True`` only for a
        checkable row that passes: a not-checkable row never counts as passing). ``ok`` overall is ``True`` only
        if every checkable row passes and no not-checkable row comes out *reproduced* on numbers its reason says
        do not decide it.
    """
    rows = []
    for claim in CLAIMS:
        got = paper_evidence(claim.id)
        checkable = bool(claim.paper_supports)
        if got is None:
            rows.append(
                {
                    "claim": claim.id,
                    "rule": claim.kind,
                    "checkable": False,
                    "paper's numbers": "—",
                    "statistic": claim.why_not,
                    "swapped": "—",
                    "expected": f"not checkable: {claim.why_not}",
                    "status": "not checkable",
                    "ok": False,
                }
            )
            continue
        entry, swapped, how = got
        v, stat = verdict(claim, entry)  # the same path as this build's evidence: selection, population, rule
        vs, _ = verdict(claim, swapped)
        if checkable:
            off = "not reproduced" if claim.kind == "value" else "contradicted"
            expected = f"reproduced; swapped: {off}"
            passes = v == "reproduced" and vs == off
            status = "passes" if passes else "FAILS"
        else:
            expected = f"not checkable: {claim.why_not}"
            passes = False
            status = "FAILS" if v == "reproduced" else "not checkable"
        rows.append(
            {
                "claim": claim.id,
                "rule": claim.kind,
                "checkable": checkable,
                "paper's numbers": v,
                "statistic": stat,
                "swapped": f"{vs} ({how})",
                "expected": expected,
                "status": status,
                "ok": passes,
            }
        )
    frame = pd.DataFrame(rows)
    ok = bool(frame["checkable"].any()) and not (frame["status"] == "FAILS").any()
    return frame, ok


def self_check_text(frame: pd.DataFrame, ok: bool) -> str:
    """What ``python -m zmixlib ledger --self-check`` prints: the checkable rows (each proven both ways or
    failing), their statistics, then the not-checkable rows apart with their reasons, then the outcome."""
    with pd.option_context("display.width", 250, "display.max_colwidth", 140, "display.max_rows", 200):
        checkable = frame[frame["checkable"]]
        shown = checkable.assign(ok=checkable["status"].map({"passes": "ok", "FAILS": "FAIL"}))
        out = [
            f"checkable claims ({len(checkable)}): reproduced on the papers' numbers, contradicted (or not "
            "reproduced) with them swapped",
            shown[["claim", "rule", "paper's numbers", "swapped", "ok"]].to_string(index=False),
            "\nstatistics on the papers' numbers:",
            *(f"  {r['claim']}: {r['statistic']}" for _, r in checkable.iterrows()),
        ]
        rest = frame[~frame["checkable"]]
        out.append(f"\nnot checkable ({len(rest)}; never counted as passing):")
        for _, r in rest.iterrows():
            v = r["paper's numbers"]
            got = "" if v == "—" else f" [on the papers' numbers: {v}]"
            flag = " — FAIL: reproduced although its reason says the numbers do not decide it" * (
                r["status"] == "FAILS"
            )
            out.append(f"  {r['claim']}: {r['expected'].removeprefix('not checkable: ')}{got}{flag}")
        n_fail = int((frame["status"] == "FAILS").sum())
        n_pass = int((frame["status"] == "passes").sum())
        out.append(
            f"\nself-check: {'passed' if ok else f'FAILED ({n_fail} claim(s))'} — {n_pass} of {len(frame)} claims "
            f"proven both ways on the papers' numbers, {len(rest)} not checkable"
        )
    return "\n".join(out)
