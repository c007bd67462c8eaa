"""Label sets: the discrete classes a run predicts, in the order of its probability columns.

A run's label set is the config's ``labels`` (MER2024's six by default, :data:`MER2024`),
built once per script as a :class:`LabelSet` and passed down (never a global that changes):
ingest, fusion, evaluation, the submission and the report read it from their arguments.
:data:`LABELS` / :data:`PROB_COLUMNS` are MER2024's, for what is MER2024's by nature (the
demo corpus, MER-OV's baselines, annotation of collected clips).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass


class UnknownLabelError(ValueError):
    """A label outside the run's label set."""


@dataclass(frozen=True)
class LabelSet:
    """An ordered, immutable set of class names; ``p_<label>`` are its probability columns."""

    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        labels = tuple(str(label) for label in self.labels)
        object.__setattr__(self, "labels", labels)
        if len(labels) < 2:
            raise ValueError(f"a label set needs at least two labels, got {list(labels)}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"a label set's labels must differ, got {list(labels)}")

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def __getitem__(self, i: int) -> str:
        return self.labels[i]

    def __contains__(self, label: object) -> bool:
        return label in self.labels

    @property
    def prob_columns(self) -> tuple[str, ...]:
        return tuple(f"p_{label}" for label in self.labels)

    def index(self, label: str) -> int:
        """Index of ``label``; raises :class:`UnknownLabelError` naming the set otherwise."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise UnknownLabelError(
                f"unknown label {label!r}: expected one of {', '.join(self.labels)}"
            ) from None


def label_set(labels: Sequence[str] | LabelSet | None = None) -> LabelSet:
    """``labels`` as a :class:`LabelSet` (a config's list, a set as it is); None: MER2024."""
    if labels is None:
        return MER2024
    return labels if isinstance(labels, LabelSet) else LabelSet(tuple(labels))


MER2024 = LabelSet(("neutral", "angry", "happy", "sad", "worried", "surprise"))
LABELS: tuple[str, ...] = MER2024.labels
LABEL_INDEX: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
PROB_COLUMNS: tuple[str, ...] = MER2024.prob_columns


def label_index(label: str) -> int:
    """Index of ``label`` in MER2024's :data:`LABELS` (:meth:`LabelSet.index`)."""
    return MER2024.index(label)
