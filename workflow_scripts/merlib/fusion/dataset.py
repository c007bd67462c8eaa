"""The labelled and unlabelled sets that fusion trains and predicts on, assembled from the
features stage's tables.

* :class:`FeatureSources`: where the features are (per feature its shard files, the flags
  tables beside them, and for noise augmentation the noisy copy's);
* :func:`load_feature_matrix` / :func:`load_feature_flags`: shard tables -> arrays aligned
  to a list of clip names, with a presence mask and the recorded flags;
* :func:`usable_features`: a clip is usable when it has a present, unflagged feature (a
  flagged vector, the zero text vector of an empty transcription, is still fed to the
  model beside real ones, as the reference feeds it, but never on its own);
* :func:`load_labelled` (the manifest's labelled clips, the unusable ones listed as
  excluded; noisy copies as :class:`ExtraRows`) and :func:`load_unlabelled` (the pool).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..labels import label_index
from ..schemas import FEATURE_FLAGS, MANIFEST, read_features, read_table

log = logging.getLogger(__name__)

NO_FEATURE_REASON = "no feature available"


class FeatureTableError(ValueError):
    """Feature shards that do not fit together (dimensions, duplicate or bad rows)."""


def load_feature_matrix(
    feature_paths: Mapping[str, Sequence[str | os.PathLike]], names: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read every shard of every feature into arrays aligned to ``names``.

    Returns ``(X, mask)``: per feature an ``(n, dim)`` float32 array (zeros where the clip
    has no row) and an ``(n,)`` bool presence mask. Rows of clips not in ``names`` are
    ignored. Raises :class:`FeatureTableError` when a feature's shards disagree on the
    dimension, a clip appears twice, or an embedding holds a non-finite value.
    """
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise ValueError("names must be unique")
    X: dict[str, np.ndarray] = {}
    mask: dict[str, np.ndarray] = {}
    for feature, paths in feature_paths.items():
        if not paths:
            raise FeatureTableError(f"feature {feature!r}: no shard files given")
        dim = None
        first = None
        values = None
        present = np.zeros(len(names), dtype=bool)
        for path in paths:
            table = read_features(path)
            d = table.schema.field("embedding").type.list_size
            if dim is None:
                dim, first = d, path
                values = np.zeros((len(names), dim), dtype=np.float32)
            elif d != dim:
                raise FeatureTableError(
                    f"feature {feature!r}: {path} has dimension {d} but {first} has {dim}"
                )
            rows = [index.get(n, -1) for n in table.column("name").to_pylist()]
            rows = np.asarray(rows, dtype=np.int64)
            keep = rows >= 0
            if not keep.any():
                continue
            emb = table.column("embedding").combine_chunks().flatten()
            emb = emb.to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, dim)
            rows, emb = rows[keep], emb[keep]
            seen = present[rows] | (np.bincount(rows, minlength=len(names))[rows] > 1)
            if seen.any():
                raise FeatureTableError(
                    f"feature {feature!r}: clip {names[rows[seen][0]]!r} appears more than "
                    f"once (again in {path})"
                )
            bad = ~np.isfinite(emb).all(axis=1)
            if bad.any():
                raise FeatureTableError(
                    f"feature {feature!r}: {path} holds non-finite values for clip "
                    f"{names[rows[bad][0]]!r} ({int(bad.sum())} clips in that file)"
                )
            values[rows] = emb
            present[rows] = True
        X[feature] = values
        mask[feature] = present
    return X, mask


def load_feature_flags(
    flag_paths: Mapping[str, Sequence[str | os.PathLike]] | None, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per feature of ``flag_paths`` an ``(n,)`` object array aligned to ``names``: the
    flag(s) the features stage recorded for each clip (``FEATURE_FLAGS``, e.g.
    ``empty_transcription``; several joined by ``+``), None where there is none."""
    index = {n: i for i, n in enumerate(names)}
    flags: dict[str, np.ndarray] = {}
    for feature, paths in (flag_paths or {}).items():
        column = np.full(len(names), None, dtype=object)
        for path in paths:
            for row in read_table(path, FEATURE_FLAGS).to_pylist():
                i = index.get(row["name"])
                if i is not None:
                    old = column[i]
                    column[i] = row["flag"] if old is None else f"{old}+{row['flag']}"
        flags[feature] = column
    return flags


def usable_features(
    mask: Mapping[str, np.ndarray], flags: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """(n,) bool: whether each clip has at least one feature that is present and not
    flagged. A flagged vector (a zero text vector for an empty transcription) is still fed
    to the model, as the reference does, but cannot on its own make a clip usable: a clip
    with nothing else is left out of training and predicted from the class prior."""
    flags = flags or {}
    usable = []
    for f in mask:
        present = np.asarray(mask[f], dtype=bool)
        if f in flags:
            present = present & np.array([v is None for v in flags[f]], dtype=bool)
        usable.append(present)
    return np.stack(usable, axis=1).any(axis=1)


def describe_missing(
    features: Sequence[str],
    i: int,
    mask: Mapping[str, np.ndarray],
    flags: Mapping[str, np.ndarray] | None = None,
) -> str:
    """Why clip ``i`` has no usable feature: the features it lacks and those flagged."""
    flags = flags or {}
    missing = [f for f in features if not mask[f][i]]
    flagged = [f"{f} {flags[f][i]}" for f in features if mask[f][i] and f in flags]
    parts = [f"missing: {', '.join(missing)}"] if missing else []
    parts += [f"flagged: {', '.join(flagged)}"] if flagged else []
    return f"{NO_FEATURE_REASON} ({'; '.join(parts)})"


def stack_mask(mask: Mapping[str, np.ndarray], features: Sequence[str]) -> np.ndarray:
    return np.stack([np.asarray(mask[f], dtype=bool) for f in features], axis=1)


# --- extra training rows --------------------------------------------------------------


NO_SOURCE = -1


@dataclass
class ExtraRows:
    """Rows added to training folds, never to validation.

    A row without a source (``source`` None, or ``NO_SOURCE`` for that row, e.g. a
    pseudo-labelled pool clip) joins every training fold. A row copied from labelled clip
    ``source[j]`` (its noisy copy, for noise augmentation) joins exactly the training folds
    that hold that clip, so a clip and its copy are always on the same side of a split.
    """

    X: Mapping[str, np.ndarray]
    mask: Mapping[str, np.ndarray]
    y: np.ndarray  # (n_extra,) label indices
    source: np.ndarray | None = None  # (n_extra,) labelled-clip index, or NO_SOURCE

    def __len__(self) -> int:
        return len(self.y)

    def sources(self) -> np.ndarray:
        if self.source is None:
            return np.full(len(self.y), NO_SOURCE, dtype=np.int64)
        source = np.asarray(self.source, dtype=np.int64)
        if source.shape != (len(self.y),):
            raise ValueError(f"source has shape {source.shape}, expected ({len(self.y)},)")
        return source

    @classmethod
    def concat(cls, parts: Sequence[ExtraRows | None]) -> ExtraRows | None:
        """One ExtraRows from several (None and empty parts skipped; None if nothing)."""
        parts = [p for p in parts if p is not None and len(p)]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        features = list(parts[0].X)
        return cls(
            X={f: np.concatenate([np.asarray(p.X[f]) for p in parts]) for f in features},
            mask={f: np.concatenate([np.asarray(p.mask[f]) for p in parts]) for f in features},
            y=np.concatenate([np.asarray(p.y, dtype=np.int64) for p in parts]),
            source=np.concatenate([p.sources() for p in parts]),
        )


# --- the sets ---------------------------------------------------------------------------


@dataclass
class LabelledSet:
    """The labelled clips that have at least one of the features, with their arrays."""

    names: list[str]
    labels: list[str]
    X: dict[str, np.ndarray]
    mask: dict[str, np.ndarray]
    excluded: list[dict]  # {"name", "reason"} per labelled clip left out
    noisy: ExtraRows | None = None  # noisy copies of these clips (noise augmentation)

    @property
    def n_noisy(self) -> int:
        return 0 if self.noisy is None else len(self.noisy)


Files = Mapping[str, Sequence[str]]  # feature name -> its shard files


# what FeatureSources holds, by the prefix of its named inputs (rules/common.smk)
INPUT_KINDS = ("features", "flags", "noisy_features", "noisy_flags")


def input_files(inputs, kind: str, features: Sequence[str]) -> dict[str, list[str]]:
    """Feature -> files of a rule's named input ``<kind>_<feature>``, for each of ``features``
    the rule has that input for (noisy copies only with augmentation, flags only where
    read). ``inputs``: ``snakemake.input`` or any mapping with ``get``."""
    files = {}
    for feature in features:
        paths = inputs.get(f"{kind}_{feature}")
        if paths is not None:
            files[feature] = (
                [str(paths)] if isinstance(paths, str | os.PathLike) else [str(p) for p in paths]
            )
    return files


@dataclass(frozen=True)
class FeatureSources:
    """Where fusion reads its features from: per feature its shard files (``files``) and
    the flags tables that go with them (``flags``: :func:`usable_features`); for noise
    augmentation, the same two for the labelled clips' noisy copy (``noisy_files``,
    ``noisy_flags``; empty: no augmentation). The rules pass them as named inputs
    (:meth:`from_inputs`).
    """

    files: Files
    flags: Files = field(default_factory=dict)
    noisy_files: Files = field(default_factory=dict)
    noisy_flags: Files = field(default_factory=dict)

    @classmethod
    def of(cls, sources: FeatureSources | Files) -> FeatureSources:
        """``sources`` itself, or a plain ``feature -> shard files`` mapping (no flags)."""
        return sources if isinstance(sources, cls) else cls(dict(sources))

    @classmethod
    def from_inputs(cls, inputs, features: Sequence[str]) -> FeatureSources:
        """From a Snakemake rule's named inputs (``snakemake.input``, or any mapping with
        ``get``): per feature of ``features``, ``features_<name>``, ``flags_<name>`` and,
        with noise augmentation, ``noisy_features_<name>`` and ``noisy_flags_<name>``
        (``feature_inputs`` in rules/common.smk names them)."""
        return cls(*(input_files(inputs, kind, features) for kind in INPUT_KINDS))

    @property
    def noisy(self) -> FeatureSources | None:
        """The noisy copy's sources, None without augmentation."""
        return FeatureSources(self.noisy_files, self.noisy_flags) if self.noisy_files else None

    def load(
        self, names: Sequence[str], features: Sequence[str]
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(X, mask, flags)`` of ``features`` for ``names``: :func:`load_feature_matrix`
        and :func:`load_feature_flags`."""
        missing = [f for f in features if f not in self.files]
        if missing:
            raise ValueError(f"no shard files given for feature(s) {', '.join(missing)}")
        X, mask = load_feature_matrix({f: self.files[f] for f in features}, names)
        flags = load_feature_flags({f: self.flags[f] for f in features if f in self.flags}, names)
        return X, mask, flags


def load_labelled(
    manifest_path: str | os.PathLike,
    sources: FeatureSources | Files,
    features: Sequence[str],
) -> LabelledSet:
    """The manifest's labelled clips (split ``labeled``) and their features.

    Labelled clips without a usable feature among ``features`` (none present, or only
    flagged vectors, see :func:`usable_features`) are left out and listed in ``excluded``.
    With noise augmentation (``sources.noisy``: the features of a noisy copy of the
    labelled clips, same names), ``noisy`` holds one extra training row per kept clip whose
    copy has a usable feature, with that clip as its source (:class:`ExtraRows`).
    """
    sources = FeatureSources.of(sources)
    manifest = read_table(manifest_path, MANIFEST).to_pandas()
    labelled = manifest[(manifest["split"] == "labeled") & manifest["discrete"].notna()]
    if labelled.empty:
        raise ValueError(f"{manifest_path}: no labelled clips (split 'labeled' with a label)")
    names = labelled["name"].tolist()
    labels = labelled["discrete"].tolist()
    X, mask, flags = sources.load(names, features)
    has_any = usable_features(mask, flags)
    excluded = [
        {"name": n, "reason": describe_missing(features, i, mask, flags)}
        for i, (n, ok) in enumerate(zip(names, has_any, strict=True))
        if not ok
    ]
    keep = np.flatnonzero(has_any)
    names = [names[i] for i in keep]
    labels = [labels[i] for i in keep]
    X = {f: X[f][keep] for f in features}
    mask = {f: mask[f][keep] for f in features}
    noisy = None
    if sources.noisy is not None:
        noisy = load_noisy_copies(names, labels, sources.noisy, features)
    for f in features:
        log.info(
            "feature %s: dim %d, present for %d of %d clips",
            f,
            X[f].shape[1],
            int(mask[f].sum()),
            len(names),
        )
    return LabelledSet(names, labels, X, mask, excluded, noisy)


def load_noisy_copies(
    names: Sequence[str],
    labels: Sequence[str],
    noisy: FeatureSources,
    features: Sequence[str],
) -> ExtraRows:
    """Training rows from the noisy copy (``noisy``: its feature and flags files) of the
    clips ``names`` (labels ``labels``): one per clip whose copy has a usable feature,
    ``source`` = the clip's index in ``names``."""
    X, mask, flags = noisy.load(names, features)
    keep = np.flatnonzero(usable_features(mask, flags)) if len(names) else np.zeros(0, int)
    log.info("noisy copies: %d of %d labelled clips have a usable feature", len(keep), len(names))
    return ExtraRows(
        X={f: X[f][keep] for f in features},
        mask={f: mask[f][keep] for f in features},
        y=np.array([label_index(labels[i]) for i in keep], dtype=np.int64),
        source=keep.astype(np.int64),
    )


@dataclass
class UnlabelledSet:
    """The manifest's unlabelled clips (split ``unlabeled``), all of them, with their arrays."""

    names: list[str]
    X: dict[str, np.ndarray]
    mask: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]


def load_unlabelled(
    manifest_path: str | os.PathLike, sources: FeatureSources | Files, features: Sequence[str]
) -> UnlabelledSet:
    """Every unlabelled clip of the manifest and its ``features`` (none is left out: the
    caller predicts the unusable ones from the class prior)."""
    sources = FeatureSources.of(sources)
    manifest = read_table(manifest_path, MANIFEST).to_pandas()
    names = manifest.loc[manifest["split"] == "unlabeled", "name"].tolist()
    X, mask, flags = sources.load(names, features)
    return UnlabelledSet(names, X, mask, flags)
