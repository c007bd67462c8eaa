"""Random search of the fusion's hyperparameters, as MERTools runs it.

MERTools draws each hyperparameter independently for every run (so a combination may come
up twice; each run is then a repeat with its own initialisation seed) and keeps the run
with the best mean validation WAF over the folds. merflow does the same:

* :func:`sample_combinations` draws ``n`` combinations from the configured lists with a
  seeded generator; combination ``i`` also gets its own model seed, ``seed + 1000 * i``
  (the folds themselves never change: they come from the run's ``seed``);
* each combination is one workflow job (:func:`run_combination`: the K folds trained
  together), so the search spreads over a cluster; or, with
  ``search.combinations_per_job`` > 1, a job trains several combinations of one
  ``hidden_dim`` as one stack (:func:`search_jobs`, :func:`run_combinations`) and each
  combination's record is the same as in its own job;
* :func:`select_best` keeps the best mean validation WAF (the lowest index on ties), and
  the final model is retrained with exactly that combination and seed, which reproduces
  the search run bit for bit (same folds, seeds, stacking).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

# fusion (torch) is imported inside the functions that train: the workflow's common.smk
# imports this module to list the combinations, and should not pay for importing torch.
if TYPE_CHECKING:
    from .fusion.dataset import FeatureSources
    from .fusion.params import FusionParams
SEARCHED = ("hidden_dim", "dropout", "lr")
SEED_STRIDE = 1000


class SearchError(ValueError):
    """A search record that is missing, malformed or from another search."""


def sample_combinations(space: Mapping, n: int, seed: int) -> list[dict]:
    """``n`` combinations, each hyperparameter drawn independently from its list."""
    for key in SEARCHED:
        if not space.get(key):
            raise SearchError(f"search.{key} must list at least one value")
    rng = np.random.default_rng(seed)
    combos = []
    for i in range(n):
        combo = {"combination": i}
        for key in SEARCHED:
            values = list(space[key])
            combo[key] = values[int(rng.integers(len(values)))]
        combos.append(combo)
    return combos


def combination_params(base, combo: Mapping):
    """``base`` (a :class:`~merlib.fusion.params.FusionParams`) with the combination's values."""
    from .fusion.params import FusionParams

    values = base.as_dict()
    values.update({key: combo[key] for key in SEARCHED})
    return FusionParams(**values)


def fold_seed_offset(combo: Mapping) -> int:
    return SEED_STRIDE * int(combo["combination"])


def search_jobs(combos: Sequence[Mapping], per_job: int | str = 1) -> list[list[dict]]:
    """The combinations of each search job (``search.combinations_per_job``).

    ``per_job`` 1 (default): one job per combination, in combination order (job ``i`` is
    combination ``i``). More: the combinations of each ``hidden_dim`` (widths in
    increasing order, combinations in index order) cut into jobs of at most ``per_job``,
    so that a job's combinations train as one stack (same shapes); a job never mixes
    widths. ``"all"``: one job of every combination (in index order), which trains one
    stack per width, one after another: the whole search on one GPU. A combination's
    record does not depend on its job.
    """
    if per_job == "all":
        return [[dict(c) for c in combos]] if combos else []
    if isinstance(per_job, str) or int(per_job) < 1:
        raise SearchError(f"search.combinations_per_job must be at least 1 or all, got {per_job!r}")
    if int(per_job) == 1:
        return [[dict(c)] for c in combos]
    by_width: dict[int, list[dict]] = {}
    for c in combos:
        by_width.setdefault(int(c["hidden_dim"]), []).append(dict(c))
    jobs = []
    for width in sorted(by_width):
        group = by_width[width]
        jobs += [group[i : i + int(per_job)] for i in range(0, len(group), int(per_job))]
    return jobs


def run_combination(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Mapping[str, Sequence[str]],
    features: Sequence[str],
    base: FusionParams,
    combo: Mapping,
    device: str = "cpu",
) -> dict:
    """Cross-validate one combination on ``sources`` (:class:`merlib.fusion.dataset.FeatureSources`:
    flags and noise augmentation included); the record :func:`select_best` reads."""
    return run_combinations(manifest_path, sources, features, base, [combo], device)[0]


def run_combinations(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Mapping[str, Sequence[str]],
    features: Sequence[str],
    base: FusionParams,
    combos: Sequence[Mapping],
    device: str = "cpu",
    every: float = 30.0,
) -> list[dict]:
    """The records of ``combos`` (one search job), trained together where their shapes
    allow (:func:`merlib.fusion.training.cross_validate_many`): each record is the one
    :func:`run_combination` gives for that combination alone. Progress (fold-epochs done
    of all, rate, ETA) is logged every ``every`` seconds."""
    from .fusion.dataset import load_labelled
    from .fusion.training import cross_validate_many
    from .metrics import summarise
    from .progress import Progress

    data = load_labelled(manifest_path, sources, features)
    runs = [(combination_params(base, c), fold_seed_offset(c)) for c in combos]
    names = ", ".join(str(int(c["combination"])) for c in combos)
    shape = f"{len(combos)} x {base.folds} folds x {base.epochs} epochs"
    progress = Progress(
        f"search combination(s) {names}: {shape}",
        len(combos) * base.folds * base.epochs,
        every=every,
        unit="fold-epochs",
    )
    cvs = cross_validate_many(
        data.X, data.mask, data.labels, runs, extra=data.noisy, device=device, progress=progress
    )
    records = []
    for combo, (params, offset), cv in zip(combos, runs, cvs, strict=True):
        summary = summarise(cv.folds)
        records.append(
            {
                "combination": int(combo["combination"]),
                "params": params.as_dict(),
                "seed_offset": offset,
                "features": list(features),
                "noisy_copies": data.n_noisy,
                "waf": summary["waf"],
                "acc": summary["acc"],
                "std": summary["std"],
                "folds": cv.folds,
            }
        )
    return records


def job_record(path: str | os.PathLike, combination: int) -> dict:
    """Combination ``combination``'s record in the records file of its search job."""
    try:
        records = json.loads(Path(path).read_text(encoding="utf-8"))["records"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SearchError(f"{path}: cannot read a search job's records ({exc!r})") from None
    for record in records:
        if int(record.get("combination", -1)) == int(combination):
            return record
    raise SearchError(f"{path}: no record of combination {combination} in this search job")


def read_records(paths: Sequence[str | os.PathLike]) -> list[dict]:
    records = []
    for path in paths:
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SearchError(f"{path}: cannot read a search record ({exc})") from None
        missing = {"combination", "params", "waf", "acc", "std"} - set(record)
        if missing:
            raise SearchError(f"{path}: search record lacks {', '.join(sorted(missing))}")
        records.append(record)
    return records


def select_best(records: Sequence[Mapping]) -> dict:
    """The record with the best mean validation WAF (lowest combination index on ties)."""
    if not records:
        raise SearchError("no search records to select from")
    return dict(max(records, key=lambda r: (float(r["waf"]), -int(r["combination"]))))


def search_table(records: Sequence[Mapping]) -> pd.DataFrame:
    """One row per combination, best first."""
    rows = [
        {
            "combination": int(r["combination"]),
            **{key: r["params"][key] for key in SEARCHED},
            "waf": float(r["waf"]),
            "waf_std": float(r["std"]["waf"]),
            "acc": float(r["acc"]),
            "acc_std": float(r["std"]["acc"]),
        }
        for r in records
    ]
    df = pd.DataFrame(rows)
    return df.sort_values(["waf", "combination"], ascending=[False, True], ignore_index=True)


def plot_search(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Mean validation WAF (+- std over folds) of every combination, by hidden_dim and lr."""
    from .plots import legend_outside, save_figure, subplots

    fig, ax = subplots(figsize=(8, 4))
    markers = {lr: m for lr, m in zip(sorted(table["lr"].unique()), "os^vD", strict=False)}
    for (hidden, lr), group in table.groupby(["hidden_dim", "lr"], sort=True):
        ax.errorbar(
            group["dropout"] + 0.004 * np.log2(hidden / 64),
            group["waf"],
            yerr=group["waf_std"],
            fmt=markers[lr],
            capsize=2,
            label=f"hidden {hidden}, lr {lr:g}",
        )
    best = table.iloc[0]
    ax.set_title(
        f"Random search: {len(table)} combinations; best #{int(best['combination'])} "
        f"WAF {best['waf']:.3f}"
    )
    ax.set_xlabel("dropout")
    ax.set_ylabel("mean validation WAF (+- std over folds)")
    legend_outside(ax, fontsize=7)
    save_figure(fig, path)
