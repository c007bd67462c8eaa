"""Named errors of the noise stage: a broken corpus, and clips that cannot take noise."""

from __future__ import annotations

from ..errors import MediaError


class NoiseCorpusError(ValueError):
    """The noise folder is missing or holds no audio file."""


class NoiseFileError(MediaError):
    """A noise file could not be decoded."""


class ShortClipError(MediaError):
    """A clip's audio is too short to take noise."""


class SilentClipError(MediaError):
    """A clip's audio is silent (RMS 0): no SNR can be defined."""


class SilentNoiseError(MediaError):
    """The noise segment drawn for a clip is silent (RMS 0): it cannot be scaled."""
