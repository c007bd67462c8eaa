"""The demo's stand-in for MUSAN's speech subset: synthetic babble, so that MER-NOISE runs
on the demo without a download (rule make_demo_noise; used while noise.musan_dir is null)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np

from ..av.wav import pcm16, write_wav
from .spec import SAMPLE_RATE
from .speech import PROSODY, VOICES, emotion_prosody, synthesize_batch
from .text import make_sentence

NAME = "speech-demo-{:04d}.wav"


def make_noise_speech(
    out_dir: str | os.PathLike, seed: int = 7, n_files: int = 12, sentences: int = 4
) -> list[Path]:
    """Write ``n_files`` WAV files of synthetic speech to ``out_dir`` (replaced if it
    exists), deterministically: each file ``sentences`` neutral-prosody sentences in one
    voice with 0.3 s pauses, 16 kHz mono, like a MUSAN speech file (one speaker reading).

    The files draw from their own seed stream (``[seed, 9, i]``), so they are never the
    clips' own utterances. Written into a temporary sibling folder, renamed at the end.
    """
    if n_files < 1 or sentences < 1:
        raise ValueError(f"n_files and sentences must be >= 1; got {n_files}, {sentences}")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    requests, voices = [], []
    labels = sorted(PROSODY)
    for i in range(n_files):
        rng = np.random.default_rng([seed, 9, i])
        voice = VOICES[int(rng.integers(len(VOICES)))]
        voices.append(voice)
        for _ in range(sentences):
            text = make_sentence(labels[int(rng.integers(len(labels)))], rng)
            requests.append((text, voice, emotion_prosody("neutral", 0.0, rng)))
    speech = synthesize_batch(requests)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        pause = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
        for i in range(n_files):
            parts = speech[i * sentences : (i + 1) * sentences]
            audio = np.concatenate([x for part in parts for x in (part, pause)])
            write_wav(tmp / NAME.format(i), pcm16(audio), SAMPLE_RATE)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(
        f"wrote {n_files} noise speech files ({', '.join(sorted(set(voices)))}) to {out_dir}",
        file=sys.stderr,
    )
    return [out_dir / NAME.format(i) for i in range(n_files)]
