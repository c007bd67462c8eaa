"""Benchmark: the embedded ASR (offline Whisper-base, faster-whisper int8 on the CPU).

- WER on the 11 real GRID clips (English, ``language=en``), truth in
  ``../shared/data/video/grid/<clip>.txt``; raw (lowercased, punctuation removed) and
  normalised (digits spelled out and split from letters: Whisper writes "F2" for GRID's
  "f two");
- CER on the demo corpus's synthetic Mandarin (espeak-ng ``cmn``; ``language=zh``), truth
  in its ``label-transcription.csv`` (punctuation and spaces removed); the demo corpus must
  have been built (``snakemake make_demo_corpus``);
- cost per clip on ``--threads`` cores (seconds per clip and per second of audio), and the
  projected CPU-hours for the 115,595 unlabelled MER2024 clips at the demo's cost per clip.

    .venv/bin/python bench/transcripts_asr.py [--threads 2] [--demo-clips 30]
"""

from __future__ import annotations

import argparse
import csv
import re
import string
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.asr_text import edit_distance
from merlib.av.decode import decode_audio
from merlib.whisper import Transcriber

GRID = REPO.parent / "shared" / "data" / "video" / "grid"
DEMO = REPO / "resources" / "demo"
POOL = 115_595
DIGITS = "zero one two three four five six seven eight nine".split()
CJK_PUNCT = "，。！？、；：“”‘’（）《》…—·「」"


def words(text: str, normalise: bool) -> list[str]:
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    if normalise:
        text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
        text = re.sub(r"\d", lambda m: f" {DIGITS[int(m[0])]} ", text)
    return text.split()


def chars(text: str) -> list[str]:
    drop = string.punctuation + CJK_PUNCT
    return [c for c in text if not c.isspace() and c not in drop]


def run(asr: Transcriber, pcm: np.ndarray) -> tuple[str, float]:
    start = time.perf_counter()
    text = asr.transcribe(pcm.astype(np.float32) / 32768.0).text
    return text, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--demo-clips", type=int, default=30)
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "merflow-bench-models"
    print(f"faster-whisper Whisper-base int8, {args.threads} CPU threads, beam 1")

    en = Transcriber("base", cache, "en", threads=args.threads)
    errors = {False: 0, True: 0}
    n_ref = {False: 0, True: 0}
    seconds = audio_s = 0.0
    clips = sorted(GRID.glob("*.mpg"))
    for clip in clips:
        truth = clip.with_suffix(".txt").read_text(encoding="utf-8")
        pcm = decode_audio(clip)
        text, dt = run(en, pcm)
        seconds, audio_s = seconds + dt, audio_s + len(pcm) / 16000
        for norm in (False, True):
            ref, hyp = words(truth, norm), words(text, norm)
            errors[norm] += edit_distance(ref, hyp)
            n_ref[norm] += len(ref)
        print(f"  {clip.stem}: {truth.strip()!r} -> {text!r}")
    print(
        f"GRID ({len(clips)} clips, {audio_s:.1f} s audio): "
        f"WER raw {errors[False] / n_ref[False]:.3f}, "
        f"normalised {errors[True] / n_ref[True]:.3f}; {seconds / len(clips):.2f} s/clip, "
        f"real-time factor {seconds / audio_s:.3f}"
    )

    truth_csv = DEMO / "label-transcription.csv"
    if not truth_csv.is_file():
        print(f"no demo corpus at {DEMO}: build it with `snakemake make_demo_corpus`")
        return
    with open(truth_csv, encoding="utf-8-sig", newline="") as fh:
        truth = {r["name"]: r["chinese"] for r in csv.DictReader(fh)}
    videos = sorted((DEMO / "video-unlabeled-with-test2noise").glob("*.mp4"))[: args.demo_clips]
    zh = Transcriber("base", cache, "zh", threads=args.threads)
    err = n = 0
    seconds = audio_s = 0.0
    for i, video in enumerate(videos):
        pcm = decode_audio(video)
        text, dt = run(zh, pcm)
        seconds, audio_s = seconds + dt, audio_s + len(pcm) / 16000
        ref = chars(truth[video.stem])
        err += edit_distance(ref, chars(text))
        n += len(ref)
        if i < 5:
            print(f"  {video.stem}: {truth[video.stem]!r} -> {text!r}")
    per_clip = seconds / len(videos)
    print(
        f"demo Mandarin ({len(videos)} unlabelled clips, {audio_s:.1f} s audio): "
        f"CER {err / n:.3f}; "
        f"{per_clip:.2f} s/clip, real-time factor {seconds / audio_s:.3f}, "
        f"{1 / per_clip:.2f} clips/s"
    )
    print(
        f"projected for the {POOL:,} unlabelled MER2024 clips at this cost per clip: "
        f"{POOL * per_clip / 3600:.1f} h wall on {args.threads} cores "
        f"({POOL * per_clip * args.threads / 3600:.1f} CPU-hours)"
    )


if __name__ == "__main__":
    main()
