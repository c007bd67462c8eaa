"""One clip made noisy (audio mixed, frames blurred, wav files and mp4 written), and a
shard of clips on worker threads. A clip with no video stream (an audio-only mp4, as some
of MER2024's unlabelled clips are) gets its noisy audio in an audio-only mp4: nothing to
blur (``n_frames`` 0, ``fps`` null)."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa

from ..av.decode import decode_audio, read_video
from ..av.encode import encode_audio_mp4, encode_mp4
from ..av.wav import write_wav
from ..errors import MediaError, NoVideoTrackError
from ..media.paths import safe_clip_path
from ..schemas import NOISE, NOISE_REJECTS, table_from_rows
from .blur import blur_frame
from .corpus import NoiseCorpus
from .draws import draw_clip, noise_segment
from .errors import NoiseFileError, ShortClipError, SilentClipError, SilentNoiseError
from .mixing import mix_at_snr, rms
from .params import NoiseParams

MIN_SECONDS = 0.1  # clips shorter than this are rejected
VIDEO_DIR = "video-unlabeled-with-test2noise"  # the MER2024 folder name of the noisy copy
CLEAN_DIR = "audio-clean"
NOISY_DIR = "audio-noisy"
# The noisy mp4: H.264 at crf 18, AAC at 96 kbit/s (the clean clip's own audio rate).
CRF = 18
AUDIO_BITRATE = "96k"


@dataclass
class Timings:
    """Seconds spent per part of the work, summed over clips."""

    decode: float = 0.0  # clean audio, frames and noise files
    process: float = 0.0  # mixing and blurring
    encode: float = 0.0  # wav files and the mp4

    def add(self, other: Timings) -> None:
        self.decode += other.decode
        self.process += other.process
        self.encode += other.encode


def noisy_clip(
    name: str,
    video: Path,
    out_dir: Path,
    corpus: NoiseCorpus,
    params: NoiseParams,
    video_dir: str = VIDEO_DIR,
) -> tuple[dict, Timings]:
    """Make the noisy copy of one clip under ``out_dir``; returns its NOISE row and timings.
    The mp4 goes to ``out_dir/video_dir/<name>.mp4``.

    Raises a :class:`MediaError` (reason for a reject row) when the clip cannot take noise;
    :class:`NoiseFileError` when a noise file is broken.
    """
    t = Timings()
    draw, rng = draw_clip(name, params)
    start = time.perf_counter()
    clean = decode_audio(video, params.sample_rate, params.timeout)
    try:
        clip = read_video(video)
    except NoVideoTrackError:
        clip = None  # audio only: the noisy copy is too
    t.decode += time.perf_counter() - start
    if clean.size < MIN_SECONDS * params.sample_rate:
        raise ShortClipError(
            f"{video}: audio lasts {clean.size / params.sample_rate:.3f} s, "
            f"shorter than {MIN_SECONDS} s"
        )
    if rms(clean) == 0.0:
        raise SilentClipError(f"{video}: audio is silent (RMS 0), no SNR can be defined")

    start = time.perf_counter()
    cached = corpus._load.cache_info().currsize
    noise, used, offset = noise_segment(
        rng, len(corpus.files), clean.size, corpus.load, params.replacement
    )
    noise_load = time.perf_counter() - start
    # decoding new noise files is decode time; slicing cached arrays is not worth splitting
    if corpus._load.cache_info().currsize != cached:
        t.decode += noise_load
    else:
        t.process += noise_load

    start = time.perf_counter()
    try:
        mix = mix_at_snr(clean, noise, draw.snr_db, what=str(video))
    except SilentNoiseError as exc:
        files = ", ".join(corpus.relative(i) for i in used)
        raise SilentNoiseError(f"{exc} (noise files {files}, offset {offset})") from None
    frames = [blur_frame(f, draw.blur_factor) for f in clip.frames] if clip else []
    t.process += time.perf_counter() - start

    start = time.perf_counter()
    clean_wav = out_dir / CLEAN_DIR / f"{name}.wav"
    noisy_wav = out_dir / NOISY_DIR / f"{name}.wav"
    write_wav(clean_wav, clean, params.sample_rate)
    write_wav(noisy_wav, mix.audio, params.sample_rate)
    mp4 = out_dir / video_dir / f"{name}.mp4"
    if clip is None:
        encode_audio_mp4(noisy_wav, mp4, audio_bitrate=AUDIO_BITRATE, timeout=params.timeout)
    else:
        encode_mp4(
            frames,
            clip.fps,
            noisy_wav,
            mp4,
            crf=CRF,
            audio_bitrate=AUDIO_BITRATE,
            timeout=params.timeout,
        )
    t.encode += time.perf_counter() - start

    row = {
        "name": name,
        "snr_db": draw.snr_db,
        "blur_factor": draw.blur_factor,
        "seed": draw.seed,
        "clean_audio": clean_wav.as_posix(),
        "noisy_audio": noisy_wav.as_posix(),
        "video": mp4.as_posix(),
        "noise_files": [corpus.relative(i) for i in used],
        "noise_offset": offset,
        "gain": mix.gain,
        "rescaled": mix.rescaled,
        "mix_scale": mix.mix_scale,
        "duration": clean.size / params.sample_rate,
        "fps": float(clip.fps) if clip else None,
        "n_frames": len(frames),
    }
    return row, t


def inject_shard(
    clips: list[dict],
    data_root: str | os.PathLike,
    out_dir: str | os.PathLike,
    corpus: NoiseCorpus,
    params: NoiseParams,
    workers: int = 1,
) -> tuple[pa.Table, pa.Table, Timings]:
    """Noisy copies of manifest rows ``clips`` (name, path) under ``out_dir``, each mp4 in
    the release folder its clean clip is in (``video-unlabeled-with-test2noise/`` for the
    evaluation clips, ``video-labeled/`` for the labelled ones).

    Returns (NOISE table, NOISE_REJECTS table, summed timings), rows in clip order. Every
    clip is in exactly one of the two tables. Up to ``workers`` clips run at once (each
    ffmpeg call has one thread, so results do not depend on ``workers``).
    """
    root, out = Path(data_root), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def one(clip: dict):
        try:
            path = safe_clip_path(root, clip["path"])
            video_dir = PurePosixPath(clip["path"]).parent.as_posix()
            video_dir = VIDEO_DIR if video_dir == "." else video_dir
            return noisy_clip(clip["name"], path, out, corpus, params, video_dir)
        except NoiseFileError:
            raise
        except (MediaError, subprocess.TimeoutExpired) as exc:
            return str(exc), None

    rows, rejects, total = [], [], Timings()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for clip, (result, timings) in zip(clips, pool.map(one, clips), strict=True):
            if timings is None:
                rejects.append({"name": clip["name"], "reason": result})
            else:
                rows.append(result)
                total.add(timings)
    return table_from_rows(rows, NOISE), table_from_rows(rejects, NOISE_REJECTS), total
