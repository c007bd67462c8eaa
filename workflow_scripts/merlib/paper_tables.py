"""Result tables in the style of the MER2024 paper (Tables 3 and 4).

* **Unimodal** (Table 3): every feature alone, cross-validated with the same protocol
  (folds, seed, hyperparameters); the mean and std over folds of WAF and accuracy, and the
  feature's rank within its modality (by mean WAF, ties by name).
* **Multimodal** (Table 4): the modality combinations A+V, A+T, V+T and A+V+T, each with
  the Top-1 .. Top-N features of every modality taken in unimodal rank order (``N`` = the
  most features any modality of the combination has; a modality with fewer features
  contributes all it has, and a Top-n that repeats the feature set of Top-(n-1) is left
  out).

Each row is one cross-validation of an attention fusion on the labelled clips that have
at least one of its features (``n_clips`` says how many).

**Reference options** (:class:`TableOptions`, config ``tables.*``, set by ``protocol``):

* ``unimodal_branches: 3``: MERTools' Table 3 feeds the one feature to all three branches
  (``--audio_feature X --text_feature X --video_feature X``): three encoders and a 3-way
  attention over copies of the same vector; merflow's default is one branch;
* ``bimodal_repeat: true``: MERTools' Top-N data (``Data_Feat_TOPN``) always fills three
  modality slots, repeating one modality's Top-N list for a pair (A+T = A,T,T;
  A+V = A,V,V; V+T = T,T,V); each listed feature is its own branch, as here;
* ``row_search: N`` (> 0): every row keeps the best of ``N`` random draws of the search
  space (``search.*``, :func:`merlib.search.sample_combinations`) by mean validation WAF,
  as the reference README asks (each command run 50 times); the drawn combination and the
  row's training time are added as columns. 0: every row trains with ``fusion.*``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .fusion.dataset import FeatureSources, load_labelled
from .fusion.params import FusionParams
from .fusion.training import cross_validate
from .labels import MER2024, LabelSet, label_set
from .metrics import summarise
from .search import SEARCHED, combination_params, fold_seed_offset, sample_combinations

log = logging.getLogger(__name__)

MODALITY_CODES = {"audio": "A", "visual": "V", "text": "T"}
COMBINATIONS = (("audio", "visual"), ("audio", "text"), ("visual", "text"))
COMBINATIONS += (("audio", "visual", "text"),)
SCORE_COLUMNS = ["n_clips", "waf", "waf_std", "acc", "acc_std"]
UNIMODAL_COLUMNS = ["feature", "modality", "dim", *SCORE_COLUMNS, "rank"]
MULTIMODAL_COLUMNS = ["combination", "top_n", "features", *SCORE_COLUMNS]
SEARCH_COLUMNS = ["search_combination", *SEARCHED, "search_draws", "search_seconds"]
# the slots a pair of modalities fills in the reference's Top-N data (Data_Feat_TOPN)
REPEATED_SLOTS = {
    ("audio", "visual"): ("audio", "visual", "visual"),
    ("audio", "text"): ("audio", "text", "text"),
    ("visual", "text"): ("text", "text", "visual"),
}


@dataclass(frozen=True)
class TableOptions:
    """How the paper tables are trained (module docstring; merflow's defaults)."""

    unimodal_branches: int = 1
    bimodal_repeat: bool = False
    row_search: int = 0
    search_space: Mapping = field(default_factory=dict)  # config "search": lists, seed
    labels: LabelSet = MER2024  # the run's label set (config labels)

    def __post_init__(self) -> None:
        if self.unimodal_branches not in (1, 3):
            raise ValueError(f"unimodal_branches must be 1 or 3, got {self.unimodal_branches}")
        if int(self.row_search) < 0:
            raise ValueError(f"row_search must be >= 0, got {self.row_search}")
        if self.row_search and not self.search_space:
            raise ValueError("row_search > 0 needs the search space (config 'search')")

    @classmethod
    def from_config(
        cls, tables: Mapping | None, search: Mapping | None, labels=None
    ) -> TableOptions:
        tables = dict(tables or {})
        return cls(
            unimodal_branches=int(tables.get("unimodal_branches") or 1),
            bimodal_repeat=bool(tables.get("bimodal_repeat") or False),
            row_search=int(tables.get("row_search") or 0),
            search_space=dict(search or {}),
            labels=label_set(labels),
        )


def branch_inputs(data_X: Mapping, mask: Mapping, slots: Sequence[str]) -> tuple[dict, dict]:
    """The model's inputs for ``slots`` (feature names, a name may repeat): each slot is
    its own branch; a repeated feature's copies are keyed ``name#k`` (k-th copy)."""
    if len(set(slots)) == len(slots):
        return {f: data_X[f] for f in slots}, {f: mask[f] for f in slots}
    X, M, seen = {}, {}, {}
    for f in slots:
        k = seen[f] = seen.get(f, -1) + 1
        X[f"{f}#{k}"], M[f"{f}#{k}"] = data_X[f], mask[f]
    return X, M


def _cv_summary(data, slots, params, seed_offset=0) -> dict:
    X, M = branch_inputs(data.X, data.mask, slots)
    s = summarise(
        cross_validate(
            X, M, data.labels, params, seed_offset=seed_offset, labels=data.label_set
        ).folds
    )
    return {
        "waf": s["waf"],
        "waf_std": s["std"]["waf"],
        "acc": s["acc"],
        "acc_std": s["std"]["acc"],
    }


def _scores(manifest_path, sources, slots, params, options=None) -> tuple[dict, dict]:
    features = list(dict.fromkeys(slots))
    labels = options.labels if options is not None else MER2024
    data = load_labelled(manifest_path, sources, features, labels=labels)
    dims = {f: int(data.X[f].shape[1]) for f in features}
    row = {"n_clips": len(data.names)}
    if options is None or not options.row_search:
        return row | _cv_summary(data, slots, params), dims
    start = time.perf_counter()
    space = options.search_space
    best = None
    for combo in sample_combinations(space, options.row_search, int(space.get("seed", 0))):
        scores = _cv_summary(
            data, slots, combination_params(params, combo), fold_seed_offset(combo)
        )
        if best is None or scores["waf"] > best[0]["waf"]:  # first best on ties
            best = (scores, combo)
    scores, combo = best
    search = {"search_combination": int(combo["combination"])}
    search |= {key: combo[key] for key in SEARCHED}
    search |= {"search_draws": int(options.row_search)}
    search |= {"search_seconds": round(time.perf_counter() - start, 3)}
    return row | scores | search, dims


def _columns(columns: list[str], options) -> list[str]:
    return columns + (SEARCH_COLUMNS if options is not None and options.row_search else [])


def unimodal_table(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Mapping[str, Sequence[str]],
    modalities: Mapping[str, str],
    params: FusionParams,
    options: TableOptions | None = None,
) -> pd.DataFrame:
    """Table 3: one row per feature of ``modalities`` (feature name -> modality)."""
    rows = []
    branches = options.unimodal_branches if options is not None else 1
    for feature, modality in modalities.items():
        scores, dims = _scores(manifest_path, sources, [feature] * branches, params, options)
        rows.append({"feature": feature, "modality": modality, "dim": dims[feature]} | scores)
        log.info("unimodal %s (%s): WAF %.4f", feature, modality, scores["waf"])
    columns = _columns(UNIMODAL_COLUMNS[:-1], options)
    return rank_features(pd.DataFrame(rows, columns=columns))


def rank_features(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``rank`` (1 = best mean WAF within the modality, ties by name); sort by it."""
    table = table.sort_values(["modality", "waf", "feature"], ascending=[True, False, True])
    table = table.assign(rank=table.groupby("modality").cumcount() + 1)
    extra = [c for c in table.columns if c not in UNIMODAL_COLUMNS]
    return table.reset_index(drop=True)[UNIMODAL_COLUMNS + extra]


def multimodal_plan(unimodal: pd.DataFrame, repeat: bool = False) -> list[dict]:
    """The Table 4 rows to train: ``{"combination", "top_n", "features"}``.

    ``repeat`` (the reference): a pair of modalities fills three slots, one modality's
    Top-N list twice (:data:`REPEATED_SLOTS`), so ``features`` names some features twice.
    """
    ranked = {
        modality: group.sort_values("rank")["feature"].tolist()
        for modality, group in unimodal.groupby("modality")
    }
    plan = []
    for combo in COMBINATIONS:
        if not all(ranked.get(m) for m in combo):
            continue
        name = "+".join(MODALITY_CODES[m] for m in combo)
        previous = None
        for n in range(1, max(len(ranked[m]) for m in combo) + 1):
            slots = REPEATED_SLOTS.get(combo, combo) if repeat else combo
            features = [f for m in slots for f in ranked[m][:n]]
            if features == previous:
                continue
            plan.append({"combination": name, "top_n": n, "features": features})
            previous = features
    return plan


def multimodal_table(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Mapping[str, Sequence[str]],
    unimodal: pd.DataFrame,
    params: FusionParams,
    options: TableOptions | None = None,
) -> pd.DataFrame:
    """Table 4: one cross-validation per row of :func:`multimodal_plan`."""
    rows = []
    repeat = options.bimodal_repeat if options is not None else False
    for item in multimodal_plan(unimodal, repeat):
        scores, _ = _scores(manifest_path, sources, item["features"], params, options)
        rows.append(item | {"features": ",".join(item["features"])} | scores)
        log.info("%s top-%d: WAF %.4f", item["combination"], item["top_n"], scores["waf"])
    return pd.DataFrame(rows, columns=_columns(MULTIMODAL_COLUMNS, options))


def plot_tables(unimodal: pd.DataFrame, multimodal: pd.DataFrame, path) -> None:
    """Bar charts of mean WAF (+- std over folds): every feature, every combination. The
    axis spans the scores shown (not 0-1) and every bar carries its value."""
    from .plots import label_bars, save_figure, subplots

    fig, (left, right) = subplots(figsize=(11, 4), ncols=2)
    panels = [
        (
            left,
            [
                f"{r.feature} ({MODALITY_CODES.get(r.modality, r.modality)})"
                for r in unimodal.itertuples()
            ],
            unimodal,
            "Unimodal (Table 3)",
        ),
        (
            right,
            [f"{r.combination} top-{r.top_n}" for r in multimodal.itertuples()],
            multimodal,
            "Multimodal (Table 4)",
        ),
    ]
    for ax, names, table, title in panels:
        waf = table["waf"].to_numpy(dtype=float)
        std = table["waf_std"].to_numpy(dtype=float)
        bars = ax.barh(names, waf, xerr=std)
        label_bars(ax, bars, horizontal=True)
        ax.set_title(title)
        ax.set_xlabel("WAF (mean +- std over folds)")
        if len(waf):
            low = max(0.0, float(np.nanmin(waf - std)) - 0.05)
            high = min(1.0, float(np.nanmax(waf + std))) + 0.08
            ax.set_xlim(low, high)
        ax.invert_yaxis()
    save_figure(fig, path)
