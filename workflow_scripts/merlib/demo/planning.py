"""Planning the corpus: every random draw (labels, names, cues, texts, voices, faces,
sub-seeds) made in one pass in the main process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..labels import LABELS
from .spec import LABELLED_DIR, UNLABELLED_DIR
from .speech import VOICES, Prosody, emotion_prosody
from .text import make_sentence


@dataclass(frozen=True)
class ClipPlan:
    name: str
    folder: str
    label: str
    text: str
    voice: str
    prosody: Prosody
    face_id: str
    expression: str
    face_strength: float
    seed: int


@dataclass(frozen=True)
class Segment:
    speaker: str
    face_id: str
    label: str
    text: str
    voice: str
    prosody: Prosody
    expression: str
    face_strength: float
    seed: int


@dataclass(frozen=True)
class Cues:
    text_label: str
    n_emotion: int
    prosody_label: str
    prosody_strength: float
    expression: str
    face_strength: float


def draw_cues(label: str, rng: np.random.Generator, drop_rate: float = 0.25) -> Cues:
    """Per-clip cue strengths; with probability ``drop_rate`` one modality says nothing."""
    n_emotion = 2 if rng.random() < 0.35 else 1
    prosody_strength = float(rng.uniform(0.35, 1.0))
    face_strength = float(rng.uniform(0.35, 1.0))
    dropped = rng.random() < drop_rate
    which = ("text", "prosody", "face")[int(rng.integers(3))]
    text_label = prosody_label = expression = label
    if dropped and label != "neutral":
        if which == "text":
            text_label = "neutral"
        elif which == "prosody":
            prosody_label = "neutral"
        else:
            expression = "neutral"
    return Cues(text_label, n_emotion, prosody_label, prosody_strength, expression, face_strength)


def _unique_names(rng: np.random.Generator, n: int) -> list[str]:
    ids: list[int] = []
    seen: set[int] = set()
    while len(ids) < n:
        for v in rng.integers(0, 100_000_000, size=max(16, 2 * (n - len(ids)))):
            v = int(v)
            if v not in seen:
                seen.add(v)
                ids.append(v)
                if len(ids) == n:
                    break
    return [f"sample_{v:08d}" for v in ids]


def _plan_clip(name: str, folder: str, label: str, rng: np.random.Generator, faces) -> ClipPlan:
    cues = draw_cues(label, rng)
    text = make_sentence(cues.text_label, rng, cues.n_emotion)
    voice = VOICES[int(rng.integers(len(VOICES)))]
    prosody = emotion_prosody(cues.prosody_label, cues.prosody_strength, rng)
    face_id = faces[int(rng.integers(len(faces)))]
    return ClipPlan(
        name=name,
        folder=folder,
        label=label,
        text=text,
        voice=voice,
        prosody=prosody,
        face_id=face_id,
        expression=cues.expression,
        face_strength=cues.face_strength,
        seed=int(rng.integers(2**63)),
    )


def plan_clips(
    seed: int, clips_per_class: int, unlabelled_clips: int, face_ids: Sequence[str]
) -> list[ClipPlan]:
    """Every labelled and unlabelled clip, in a label-independent (name) order."""
    rng = np.random.default_rng([seed, 1])
    labelled = [lab for lab in LABELS for _ in range(clips_per_class)]
    unlabelled = [LABELS[i % len(LABELS)] for i in range(unlabelled_clips)]
    unlabelled = [unlabelled[i] for i in rng.permutation(len(unlabelled))]
    names = _unique_names(rng, len(labelled) + len(unlabelled))
    order = rng.permutation(len(names))
    names = [names[i] for i in order]
    jobs = [(LABELLED_DIR, lab) for lab in labelled] + [(UNLABELLED_DIR, lab) for lab in unlabelled]
    plans = [
        _plan_clip(name, folder, label, rng, face_ids)
        for name, (folder, label) in zip(names, jobs, strict=True)
    ]
    return sorted(plans, key=lambda p: p.name)


def plan_episode(index: int, seed: int, face_ids: Sequence[str], n_segments: int) -> list[Segment]:
    """``n_segments`` segments of several speakers (voice, pitch, face), back to back."""
    rng = np.random.default_rng([seed, 2, index])
    n_speakers = int(rng.integers(3, 5))
    voices = [VOICES[i] for i in rng.choice(len(VOICES), size=n_speakers, replace=False)]
    offsets = [int(v) for v in rng.permutation([-14, -5, 5, 14])[:n_speakers]]
    faces = [face_ids[i] for i in rng.choice(len(face_ids), size=n_speakers, replace=False)]
    segments = []
    speaker = int(rng.integers(n_speakers))
    for _ in range(n_segments):
        label = LABELS[int(rng.integers(len(LABELS)))]
        cues = draw_cues(label, rng)
        text = make_sentence(cues.text_label, rng, cues.n_emotion)
        prosody = emotion_prosody(
            cues.prosody_label, cues.prosody_strength, rng, pitch_offset=offsets[speaker]
        )
        segments.append(
            Segment(
                speaker=f"episode_{index:02d}_spk{speaker + 1}",
                face_id=faces[speaker],
                label=label,
                text=text,
                voice=voices[speaker],
                prosody=prosody,
                expression=cues.expression,
                face_strength=cues.face_strength,
                seed=int(rng.integers(2**63)),
            )
        )
        speaker = (speaker + int(rng.integers(1, n_speakers))) % n_speakers
    return segments
