"""Parameters of stage extract_media (config section ``media``)."""

from __future__ import annotations

from dataclasses import dataclass

NATIVE = "native"  # face_fps: every frame, at the video's own frame rate


@dataclass
class MediaParams:
    sample_rate: int = 16000
    face_fps: float | str = 4.0
    face_size: int = 112
    face_align: str = "box"
    detector: str = "opencv"
    detector_model: str | None = None
    detector_score: float = 0.6
    timeout: float = 600.0
