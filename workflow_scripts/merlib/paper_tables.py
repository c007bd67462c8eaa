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
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .fusion.dataset import FeatureSources, load_labelled
from .fusion.params import FusionParams
from .fusion.training import cross_validate
from .metrics import summarise

log = logging.getLogger(__name__)

MODALITY_CODES = {"audio": "A", "visual": "V", "text": "T"}
COMBINATIONS = (("audio", "visual"), ("audio", "text"), ("visual", "text"))
COMBINATIONS += (("audio", "visual", "text"),)
SCORE_COLUMNS = ["n_clips", "waf", "waf_std", "acc", "acc_std"]
UNIMODAL_COLUMNS = ["feature", "modality", "dim", *SCORE_COLUMNS, "rank"]
MULTIMODAL_COLUMNS = ["combination", "top_n", "features", *SCORE_COLUMNS]


def _scores(manifest_path, sources, features, params) -> tuple[dict, dict]:
    data = load_labelled(manifest_path, sources, features)
    cv = cross_validate(data.X, data.mask, data.labels, params)
    s = summarise(cv.folds)
    dims = {f: int(data.X[f].shape[1]) for f in features}
    row = {
        "n_clips": len(data.names),
        "waf": s["waf"],
        "waf_std": s["std"]["waf"],
        "acc": s["acc"],
        "acc_std": s["std"]["acc"],
    }
    return row, dims


def unimodal_table(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Mapping[str, Sequence[str]],
    modalities: Mapping[str, str],
    params: FusionParams,
) -> pd.DataFrame:
    """Table 3: one row per feature of ``modalities`` (feature name -> modality)."""
    rows = []
    for feature, modality in modalities.items():
        scores, dims = _scores(manifest_path, sources, [feature], params)
        rows.append({"feature": feature, "modality": modality, "dim": dims[feature]} | scores)
        log.info("unimodal %s (%s): WAF %.4f", feature, modality, scores["waf"])
    return rank_features(pd.DataFrame(rows, columns=UNIMODAL_COLUMNS[:-1]))


def rank_features(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``rank`` (1 = best mean WAF within the modality, ties by name); sort by it."""
    table = table.sort_values(["modality", "waf", "feature"], ascending=[True, False, True])
    table = table.assign(rank=table.groupby("modality").cumcount() + 1)
    return table.reset_index(drop=True)[UNIMODAL_COLUMNS]


def multimodal_plan(unimodal: pd.DataFrame) -> list[dict]:
    """The Table 4 rows to train: ``{"combination", "top_n", "features"}``."""
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
            features = [f for m in combo for f in ranked[m][:n]]
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
) -> pd.DataFrame:
    """Table 4: one cross-validation per row of :func:`multimodal_plan`."""
    rows = []
    for item in multimodal_plan(unimodal):
        scores, _ = _scores(manifest_path, sources, item["features"], params)
        rows.append(item | {"features": ",".join(item["features"])} | scores)
        log.info("%s top-%d: WAF %.4f", item["combination"], item["top_n"], scores["waf"])
    return pd.DataFrame(rows, columns=MULTIMODAL_COLUMNS)


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
