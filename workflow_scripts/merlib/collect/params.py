"""The collection stage's settings (``collect.*`` in the config) as one object."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CollectParams:
    """The collection settings (config block ``collect``, minus folders)."""

    sample_rate: int = 16000
    vad_threshold: float = 0.35
    vad_min_silence: float = 0.1
    vad_speech_pad: float = 0.25
    merge_max_gap: float = 1.5
    merge_min_similarity: float = 0.65
    merge_min_speech: float = 2.0
    merge_shot_cuts: bool = True
    shot_cut_threshold: float = 0.15
    reaction_max_shot: float = 2.0
    subtitle_merge_max_gap: float = 0.0
    subtitle_band: bool = False
    subtitle_band_fps: float = 5.0
    subtitle_band_fraction: float = 0.2
    subtitle_band_snap: float = 0.0
    min_duration: float = 1.2
    max_duration: float = 16.0
    face_fps: float = 2.0
    face_fraction: float = 0.5
    detector: str = "opencv"
    detector_model: str | None = None
    detector_score: float = 0.6
    face_rule: str = "main"
    main_face_ratio: float = 0.6
    identity_threshold: float = 0.55
    identity_frames: int = 5
    window_gap: float = 10.0
    timeout: float = 3600.0

    @classmethod
    def from_config(cls, cfg: dict) -> CollectParams:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in cfg.items() if k in known})
