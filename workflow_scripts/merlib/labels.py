"""The MER2024 discrete label set, in the order used for probability columns."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("neutral", "angry", "happy", "sad", "worried", "surprise")
LABEL_INDEX: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{label}" for label in LABELS)


class UnknownLabelError(ValueError):
    """A label outside the six MER2024 classes."""


def label_index(label: str) -> int:
    """Index of ``label`` in :data:`LABELS`; raises :class:`UnknownLabelError` otherwise."""
    try:
        return LABEL_INDEX[label]
    except KeyError:
        raise UnknownLabelError(
            f"unknown label {label!r}: expected one of {', '.join(LABELS)}"
        ) from None
