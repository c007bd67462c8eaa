"""MER-NOISE: speech noise and blur added to clean clips, as the challenge's generator does.

**Audio** (MERTools' ``add_noise``): noise comes from the ``speech`` subset of MUSAN (any
audio file under ``musan_dir``, searched recursively). Per clip an integer SNR is drawn
uniformly from ``snr_db`` (both bounds included); noise files are concatenated in random
order until the result is longer than the clean audio, and a random crop of the clean
length is taken; the noise is scaled so that ``RMS(clean) / RMS(scaled noise) =
10 ** (SNR / 20)`` and added. When the sum leaves the int16 range, the whole mix is
rescaled to fit (``rescaled`` and ``mix_scale`` record it, since the SNR then holds for the
rescaled clean signal, not for the clean file).

**Video**: each frame is downsampled by a factor drawn from ``blur_factors`` with repeated
``cv2.pyrDown`` (one per halving) and brought back to its size with as many ``cv2.pyrUp``;
factor 1 leaves the frame as it is. Frame rate, frame count and size are kept; the noisy
16 kHz mono audio is muxed back in (H.264 + AAC, bit-exact flags, no metadata).

**Determinism**: every draw of a clip comes from one ``numpy`` generator seeded by
:func:`clip_seed` (the config seed and the clip name only), and every encoder runs with
one thread and bit-exact flags, so a rerun or another shard layout gives byte-identical
files.

**Bad input**: a missing or empty noise folder raises :class:`NoiseCorpusError`; a noise
file that does not decode raises :class:`NoiseFileError` naming it (the corpus is broken,
not the clip); a clip that does not decode, has no audio, is shorter than
:data:`MIN_SECONDS` or is silent (RMS 0) becomes a reject row with the reason. Files are
written under temporary names and renamed, so nothing half-written is left behind.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import subprocess
import time
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
import pyarrow as pa

from .atomic import atomic_path
from .errors import AudioLoadingError, MediaError, VideoLoadingError
from .media import decode_audio, ffmpeg_exe, safe_clip_path
from .metrics import EvaluationError, accuracy, waf
from .schemas import MANIFEST, NOISE, NOISE_REJECTS, ROBUSTNESS, table_from_rows

MIN_SECONDS = 0.1  # clips shorter than this are rejected
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".sph", ".aac"})
INT16_MAX = 32767.0
VIDEO_DIR = "video-unlabeled-with-test2noise"  # the MER2024 folder name of the noisy copy
CLEAN_DIR = "audio-clean"
NOISY_DIR = "audio-noisy"


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


@dataclass(frozen=True)
class NoiseParams:
    snr_db: tuple[int, int] = (5, 10)
    blur_factors: tuple[int, ...] = (1, 2, 4)
    seed: int = 2024
    sample_rate: int = 16000
    timeout: float = 600.0
    replacement: bool = False  # True: noise files drawn with replacement (the reference)

    def __post_init__(self):
        lo, hi = self.snr_db
        if int(lo) != lo or int(hi) != hi or lo > hi:
            raise ValueError(f"snr_db must be two integers min <= max, got {self.snr_db}")
        if not self.blur_factors:
            raise ValueError("blur_factors must name at least one factor")
        for f in self.blur_factors:
            if f < 1 or (f & (f - 1)):
                raise ValueError(f"blur factors must be powers of two >= 1, got {f}")


# --- the noise corpus ----------------------------------------------------------------------


def find_noise_files(musan_dir: str | os.PathLike) -> list[Path]:
    """Audio files under ``musan_dir`` (recursively), sorted by relative path."""
    root = Path(musan_dir)
    if not root.is_dir():
        raise NoiseCorpusError(
            f"noise.musan_dir {str(root)!r} is not a folder. Please point it at the speech "
            "subset of MUSAN (musan/speech)."
        )
    files = sorted(
        (p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    if not files:
        raise NoiseCorpusError(
            f"noise.musan_dir {str(root)!r} holds no audio file "
            f"({', '.join(sorted(AUDIO_SUFFIXES))}), searched recursively."
        )
    return files


def load_noise(
    path: str | os.PathLike, sample_rate: int = 16000, timeout: float = 600
) -> np.ndarray:
    """A noise file as mono int16 at ``sample_rate``; :class:`NoiseFileError` if it fails."""
    try:
        return decode_audio(path, sample_rate, timeout)
    except (AudioLoadingError, subprocess.TimeoutExpired) as exc:
        raise NoiseFileError(f"noise file {path} does not decode: {exc}") from exc


# --- draws ----------------------------------------------------------------------------------


def clip_seed(seed: int, name: str) -> int:
    """The seed of a clip's draws: a stable hash of the config seed and the clip name."""
    digest = hashlib.sha256(f"{int(seed)}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # fits a signed int64 column


@dataclass(frozen=True)
class Draw:
    seed: int
    snr_db: int
    blur_factor: int


def draw_clip(name: str, params: NoiseParams) -> tuple[Draw, np.random.Generator]:
    """A clip's SNR and blur factor, and the generator its noise draws continue from."""
    seed = clip_seed(params.seed, name)
    rng = np.random.default_rng(seed)
    lo, hi = params.snr_db
    snr = int(rng.integers(int(lo), int(hi) + 1))
    blur = int(params.blur_factors[int(rng.integers(len(params.blur_factors)))])
    return Draw(seed, snr, blur), rng


def _file_order(rng: np.random.Generator, n_files: int, replacement: bool) -> np.ndarray:
    """One pass of file indices: a permutation, or (``replacement``, MERTools' independent
    ``random.choice`` per file) ``n_files`` independent uniform draws."""
    if replacement:
        return rng.integers(0, n_files, size=n_files)
    return rng.permutation(n_files)


def noise_segment(
    rng: np.random.Generator,
    n_files: int,
    n_samples: int,
    load: Callable[[int], np.ndarray],
    replacement: bool = False,
) -> tuple[np.ndarray, list[int], int]:
    """Noise of ``n_samples`` samples: files (by index) concatenated in random order until
    longer than ``n_samples``, then a random crop. Returns (noise, file indices, offset).
    When one pass over all files is not enough, another random order follows. With
    ``replacement`` (the reference's draw) each file is drawn independently, so a file may
    come twice in a row and another not at all."""
    parts: list[np.ndarray] = []
    used: list[int] = []
    total = 0
    while total <= n_samples:
        for index in _file_order(rng, n_files, replacement):
            audio = load(int(index))
            parts.append(audio)
            used.append(int(index))
            total += audio.size
            if total > n_samples:
                break
        else:
            if total == 0:
                raise NoiseFileError("every noise file is empty")
    noise = np.concatenate(parts)
    offset = int(rng.integers(0, noise.size - n_samples + 1))
    return noise[offset : offset + n_samples], used, offset


def rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


@dataclass(frozen=True)
class Mix:
    audio: np.ndarray  # int16
    gain: float  # factor applied to the noise before adding
    rescaled: bool  # the sum left the int16 range and was scaled down
    mix_scale: float  # that scale (1.0 when not rescaled)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float, what: str = "clip") -> Mix:
    """Clean int16 audio plus noise scaled to ``snr_db``; rescaled when it overflows int16."""
    clean = np.asarray(clean)
    if clean.shape != np.asarray(noise).shape:
        raise ValueError(f"{what}: clean {clean.shape} and noise {np.shape(noise)} differ")
    clean_rms = rms(clean)
    if clean_rms == 0.0:
        raise SilentClipError(f"{what}: audio is silent (RMS 0), no SNR can be defined")
    noise_rms = rms(noise)
    if noise_rms == 0.0:
        raise SilentNoiseError(f"{what}: the noise segment drawn is silent (RMS 0)")
    gain = clean_rms / (noise_rms * 10.0 ** (snr_db / 20.0))
    mixed = clean.astype(np.float64) + gain * np.asarray(noise, dtype=np.float64)
    peak = float(np.max(np.abs(mixed)))
    scale = 1.0
    if peak > INT16_MAX:
        scale = INT16_MAX / peak
        mixed *= scale
    out = np.clip(np.rint(mixed), -32768, 32767).astype(np.int16)
    return Mix(out, gain, scale != 1.0, scale)


def measured_snr_db(clean: np.ndarray, noisy: np.ndarray, mix_scale: float = 1.0) -> float:
    """SNR present in ``noisy``: RMS of the (scaled) clean signal over RMS of the rest."""
    c = np.asarray(clean, dtype=np.float64) * mix_scale
    residual = np.asarray(noisy, dtype=np.float64) - c
    r = rms(residual)
    return math.inf if r == 0.0 else 20.0 * math.log10(rms(c) / r)


# --- blur -------------------------------------------------------------------------------------


def blur_frame(frame: np.ndarray, factor: int) -> np.ndarray:
    """Repeated ``pyrDown`` by ``factor`` (a power of two) then ``pyrUp`` back to its size."""
    if factor == 1:
        return frame
    levels = int(round(math.log2(factor)))
    if 2**levels != factor:
        raise ValueError(f"blur factor must be a power of two, got {factor}")
    sizes = []
    out = frame
    for _ in range(levels):
        sizes.append((out.shape[1], out.shape[0]))
        out = cv2.pyrDown(out)
    for size in reversed(sizes):
        out = cv2.pyrUp(out, dstsize=size)
    return out


# --- files ------------------------------------------------------------------------------------


def write_wav(path: str | os.PathLike, pcm: np.ndarray, sample_rate: int) -> None:
    """Write mono int16 PCM as a wav file, atomically."""
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """(int16 samples, sample rate) of a mono 16-bit wav file."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise AudioLoadingError(f"{path}: expected mono 16-bit PCM wav")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


@dataclass
class VideoClip:
    frames: list[np.ndarray]
    fps: Fraction


def read_video(path: str | os.PathLike) -> VideoClip:
    """Every frame of ``path`` (BGR uint8, rotation applied) and its frame rate."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoLoadingError(f"{path}: video does not open")
        fps = cap.get(cv2.CAP_PROP_FPS)
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise VideoLoadingError(f"{path}: video track holds no frames")
    if not fps or not math.isfinite(fps) or fps <= 0:
        raise VideoLoadingError(f"{path}: no usable frame rate ({fps})")
    # 29.97 comes back as 29.97002997...: recover the exact rational rate (30000/1001).
    return VideoClip(frames, Fraction(fps).limit_denominator(1001))


def encode_clip(
    frames: Sequence[np.ndarray], fps: Fraction, wav: Path, out: Path, timeout: float = 600
) -> None:
    """Mux BGR ``frames`` at ``fps`` and the audio of ``wav`` into an H.264 + AAC mp4,
    bit-exactly (one thread, no metadata), written under a temporary name then renamed."""
    h, w = frames[0].shape[:2]
    pix_fmt = "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p"
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(fps)]
    cmd += ["-i", "pipe:0", "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", pix_fmt]
    cmd += ["-threads", "1", "-c:a", "aac", "-b:a", "96k"]
    cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    cmd += ["-flags:a", "+bitexact", "-f", "mp4", ""]  # the temporary file
    data = b"".join(np.ascontiguousarray(f).tobytes() for f in frames)
    with atomic_path(out, suffix=".tmp.mp4") as tmp:
        cmd[-1] = str(tmp)
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()[-500:]
            raise MediaError(f"{out}: ffmpeg could not encode the noisy clip: {err}")


# --- one clip, one shard ------------------------------------------------------------------


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


@dataclass
class NoiseCorpus:
    """The noise files and a bounded cache of their decoded audio."""

    root: Path
    files: list[Path]
    sample_rate: int = 16000
    timeout: float = 600.0
    cache_size: int = 16  # decoded files kept (MUSAN speech files: minutes, ~10 MB each)
    _load: Callable[[int], np.ndarray] = field(init=False, repr=False)

    def __post_init__(self):
        @functools.lru_cache(maxsize=self.cache_size)
        def load(index: int) -> np.ndarray:
            return load_noise(self.files[index], self.sample_rate, self.timeout)

        self._load = load

    @classmethod
    def open(cls, musan_dir: str | os.PathLike, **kwargs) -> NoiseCorpus:
        return cls(Path(musan_dir), find_noise_files(musan_dir), **kwargs)

    def load(self, index: int) -> np.ndarray:
        return self._load(index)

    def relative(self, index: int) -> str:
        return self.files[index].relative_to(self.root).as_posix()


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
    clip = read_video(video)
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
    frames = [blur_frame(f, draw.blur_factor) for f in clip.frames]
    t.process += time.perf_counter() - start

    start = time.perf_counter()
    clean_wav = out_dir / CLEAN_DIR / f"{name}.wav"
    noisy_wav = out_dir / NOISY_DIR / f"{name}.wav"
    write_wav(clean_wav, clean, params.sample_rate)
    write_wav(noisy_wav, mix.audio, params.sample_rate)
    mp4 = out_dir / video_dir / f"{name}.mp4"
    encode_clip(frames, clip.fps, noisy_wav, mp4, params.timeout)
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
        "fps": float(clip.fps),
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


# --- robustness ------------------------------------------------------------------------------


def robustness(clean: pa.Table, noisy: pa.Table, noise: pa.Table, labels) -> tuple[dict, pa.Table]:
    """WAF and accuracy of the clean and the noisy predictions on the same clips.

    ``clean`` / ``noisy`` are PREDICTIONS tables, ``noise`` the NOISE table, ``labels`` a
    ``name, discrete`` DataFrame (:func:`merlib.metrics.read_test_labels`). Scored clips:
    those with a noisy copy and a label; every one of them must have both predictions.
    Returns the summary dict (``all``, ``by_snr_db``, ``by_blur_factor``) and the
    ROBUSTNESS table with the same figures.
    """
    truth = dict(zip(labels["name"], labels["discrete"], strict=True))
    pred = {}
    for what, table in (("clean", clean), ("noisy", noisy)):
        pred[what] = dict(
            zip(table.column("name").to_pylist(), table.column("discrete").to_pylist(), strict=True)
        )
    drawn = noise.select(["name", "snr_db", "blur_factor"]).to_pylist()
    scored = [r for r in drawn if r["name"] in truth]
    if not scored:
        raise EvaluationError("no noisy clip has a label: nothing to score")
    for what in ("clean", "noisy"):
        missing = [r["name"] for r in scored if r["name"] not in pred[what]]
        if missing:
            raise EvaluationError(
                f"{len(missing)} noisy clips have no {what} prediction, e.g. {missing[:3]}"
            )

    def scores(rows: list[dict]) -> dict:
        t = [truth[r["name"]] for r in rows]
        out = {"n_clips": len(rows)}
        for what in ("clean", "noisy"):
            p = [pred[what][r["name"]] for r in rows]
            out[f"waf_{what}"] = waf(t, p)
            out[f"acc_{what}"] = accuracy(t, p)
        out["waf_drop"] = out["waf_clean"] - out["waf_noisy"]
        return out

    summary = {
        "all": scores(scored),
        "n_unlabelled": len(drawn) - len(scored),
        "by_snr_db": {},
        "by_blur_factor": {},
    }
    table_rows = [{"group": "all", "value": "all"} | summary["all"]]
    for key in ("snr_db", "blur_factor"):
        for value in sorted({r[key] for r in scored}):
            s = scores([r for r in scored if r[key] == value])
            summary[f"by_{key}"][str(value)] = s
            table_rows.append({"group": key, "value": str(value)} | s)
    columns = ROBUSTNESS.names
    table = table_from_rows([{c: r[c] for c in columns} for r in table_rows], ROBUSTNESS)
    return summary, table


def noisy_manifest(manifest: pa.Table, noise: pa.Table, clips_root: str | os.PathLike) -> pa.Table:
    """MANIFEST rows of the noisy copy: the clean rows of the clips in ``noise``, with
    ``path`` pointing at the noisy mp4, relative to ``clips_root`` (the noisy data_root)."""
    root = Path(clips_root)
    video = dict(
        zip(noise.column("name").to_pylist(), noise.column("video").to_pylist(), strict=True)
    )
    rows = []
    for row in manifest.to_pylist():
        if row["name"] in video:
            rel = Path(video.pop(row["name"])).relative_to(root).as_posix()
            rows.append(row | {"path": rel})
    if video:
        raise ValueError(f"noisy clips not in the manifest: {', '.join(sorted(video)[:5])}")
    return table_from_rows(rows, MANIFEST)


def snr_check(noise: pa.Table) -> list[dict]:
    """Per noisy clip, the SNR recomputed from its clean and noisy wav files against the
    drawn one: ``name, snr_db, rescaled, measured_db`` (noisy minus clean, as a plain
    reader would compute it) and ``measured_scaled_db`` (against ``mix_scale`` x clean,
    which is what the mix holds when it was rescaled)."""
    out = []
    for row in noise.select(
        ["name", "snr_db", "rescaled", "mix_scale", "clean_audio", "noisy_audio"]
    ).to_pylist():
        clean, _ = read_wav(row["clean_audio"])
        noisy, _ = read_wav(row["noisy_audio"])
        out.append(
            {
                "name": row["name"],
                "snr_db": row["snr_db"],
                "rescaled": row["rescaled"],
                "measured_db": measured_snr_db(clean, noisy),
                "measured_scaled_db": measured_snr_db(clean, noisy, row["mix_scale"]),
            }
        )
    return out
