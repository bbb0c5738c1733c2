"""Chapter 11's figure — error against ε per method with its seed band, the papers' own points beside it — and the
papers' robustness tables as points (``paper_results.csv``: MultiMix Table 4, k-mixup Tables 6, 7a, 7b)."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd

from zmixlib.core.vocab import method_label
from zmixlib.tables import paper, plots

__all__ = ["PAPER_TABLES", "paper_points", "for_runs", "error_vs_eps"]

#: the papers' robustness tables (``paper_results.csv`` sources) -> how the page names them
PAPER_TABLES = {
    "multimix-table4": "MultiMix Table 4",
    "kmixup-table6": "k-mixup Table 6",
    "kmixup-table7a": "k-mixup Table 7a",
    "kmixup-table7b": "k-mixup Table 7b",
}
#: MultiMix Table 4's rows -> our methods (its PuzzleMix, Co-Mixup and AlignMixup are not trained here)
_TABLE4 = {
    "Baseline": "erm",
    "Manifold mixup": "manifold_mixup",
    "zeta-mixup (reproduced by MultiMix authors)": "zeta_mixup",
    "MultiMix": "multimix",
    "Dense MultiMix": "dense_multimix",
}
_METRIC = re.compile(r"^(?:(FGSM|PGD)_err_percent|ERR_percent_(noise|fgsm)_eps([0-9.]+))$")


def _method(source: str, name: str) -> tuple[str | None, int | None]:
    """(our method, k) of a paper's row name; ``(None, None)`` for a row we do not train."""
    if source == "multimix-table4":
        return _TABLE4.get(name), None
    if name == "ERM":
        return "erm", None
    m = re.match(r"^(\d+)-mixup$", name)
    return (None, None) if m is None else ("kmixup", int(m.group(1)))


def paper_points() -> pd.DataFrame:
    """The papers' robustness numbers as rows ``table, dataset, arch, method, k, alpha, label, attack, eps, error``
    (top-1 error, %); MultiMix Table 4's FGSM is at ε = 8, its PGD at ε = 4 (step 2). k-mixup's ``1-mixup`` is
    k = 1 (mixup)."""
    rows = []
    for source, table in PAPER_TABLES.items():
        for r in paper.paper_table(source).itertuples():
            hit = _METRIC.match(str(r.metric))
            method, k = _method(source, str(r.method))
            if hit is None or method is None:
                continue
            if hit.group(1):
                attack, eps = hit.group(1).lower(), (8.0 if hit.group(1) == "FGSM" else 4.0)
            else:
                attack, eps = hit.group(2), float(hit.group(3))
            alpha = re.match(r"^alpha=([0-9.]+)", str(r.note))
            # MultiMix's reproduction of ζ-mixup states no γ: drawn beside ours at γ = 2.8 (the official default)
            label = method_label(method, 2.8 if method == "zeta_mixup" else None) + (f" (k = {k})" if k else "")
            rows.append(
                {
                    "table": table,
                    "dataset": r.dataset,
                    "arch": r.arch,
                    "method": method,
                    "k": k,
                    "alpha": float(alpha.group(1)) if alpha else None,
                    "label": label,
                    "attack": attack,
                    "eps": eps,
                    "error": float(r.value),
                }
            )
    return pd.DataFrame(rows)


def for_runs(points: pd.DataFrame, robust: pd.DataFrame) -> pd.DataFrame:
    """``points`` labelled as ``robust``'s runs are: a paper's 1-mixup (k = 1) is our ``mixup`` where the runs have
    mixup and no k-mixup at k = 1 (the leaderboard); kept as k-mixup (k = 1) otherwise (the MNIST protocol)."""
    labels = set(robust["label"]) if robust is not None and len(robust) else set()
    one = method_label("kmixup") + " (k = 1)"
    if one not in labels and method_label("mixup") in labels and len(points):
        points = points.assign(label=points["label"].replace(one, method_label("mixup")))
    return points


@plots.house_style()
def error_vs_eps(robust: pd.DataFrame, points: pd.DataFrame, *, label: str, methods: list[str] | None = None):
    """Error (%) against ε (1/255) per method: our mean over seeds with a ± sd band (lines), one panel per (dataset,
    shift), and the papers' points of the same methods and shift (hollow markers, labelled *paper* with their table
    and setting). ``methods``: the labels drawn (default: all). Returns the figure."""
    ours = robust[robust["attack"] != "clean"]
    if methods is not None:
        ours = ours[ours["label"].isin(methods)]
    panels = list(dict.fromkeys(zip(ours["dataset"], ours["arch"], ours["attack"])))
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(5.2 * max(1, len(panels)), 4.4), squeeze=False)
    for ax, (d, a, attack) in zip(axes[0], panels):
        g = ours[(ours["dataset"] == d) & (ours["arch"] == a) & (ours["attack"] == attack)]
        for lab, h in g.groupby("label", sort=False):
            s = h.groupby("eps")["error"].agg(["mean", "std", "count"]).reset_index()
            c = plots.method_color(str(h["method"].iloc[0]))
            n = int(s["count"].max())
            marker = "o" if len(s) == 1 else None
            ax.plot(s["eps"], s["mean"], color=c, lw=1.5, marker=marker, label=f"{lab} (ours, n = {n})")
            sd = s["std"].fillna(0.0)
            ax.fill_between(s["eps"], s["mean"] - sd, s["mean"] + sd, color=c, alpha=0.12)
        p = points[(points["attack"] == attack) & points["label"].isin(set(g["label"]))] if len(points) else points
        for (table, pd_, pa, lab, al), h in (
            p.groupby(["table", "dataset", "arch", "label", "alpha"], dropna=False, sort=False) if len(p) else []
        ):
            c = plots.method_color(str(h["method"].iloc[0]))
            extra = "" if pd.isna(al) else f", α = {al:g}"
            ax.plot(
                h["eps"],
                h["error"],
                ls=":",
                marker="s",
                mfc="none",
                color=c,
                lw=0.8,
                label=f"paper: {lab}, {table} ({pd_}, {pa}{extra})",
            )
        ax.set_xlabel("ε (× 1/255)")
        ax.set_ylabel("top-1 error (%)")
        ax.set_title(f"{d} ({a}): {attack.upper() if attack != 'noise' else 'Gaussian noise, sd ε/255'}", fontsize=10)
        ax.legend(fontsize=6, loc="best")
    fig.suptitle(f"Error under shift — ours: {label}; paper: hollow squares", fontsize=10)
    fig.tight_layout()
    return fig
