"""Named exceptions for per-clip processing; messages name the file and the cause."""

from __future__ import annotations


class MediaError(RuntimeError):
    """A media file could not be decoded as expected."""


class VideoLoadingError(MediaError):
    """The video stream of a file could not be decoded."""


class NoVideoTrackError(VideoLoadingError):
    """The file holds no video stream at all (an audio-only mp4): its visual modality is
    missing, its audio may still be used."""


class AudioLoadingError(MediaError):
    """The audio stream of a file could not be decoded (or there is none)."""


class NoFaceError(MediaError):
    """No face was found in any sampled frame of a clip."""
