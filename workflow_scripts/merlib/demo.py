"""A deterministic synthetic corpus in the MER2024 release layout: the "demo corpus".

It exists so that the workflow can be wired, run end to end and regression-tested
offline on two CPU cores. It is NOT a benchmark: every number measured on it says that
the plumbing works, never how good a method is.

This module is long (the one library module over ~700 lines) because it is one concept:
the generator of one corpus, whose parts (faces, speech, episodes, tables) share its
seeded draws and only make sense together.

Layout written under ``out_dir`` (the MER2024 release layout, plus hidden truth)::

    video-labeled/<name>.mp4                 labelled clips
    label-disdim.csv                         name,discrete
    label-transcription.csv                  name,chinese   (every clip, UTF-8)
    video-unlabeled-with-test2noise/<name>.mp4
    test-labels.csv                          name,discrete  (truth of the unlabelled pool;
                                                             real releases lack it)
    raw-episodes/episode_01.mp4 ...          long "raw" videos, >= 60 s each
    raw-episodes/episode_01.srt              subtitles of the first episode only
    raw-episodes/boundaries.csv              video,start,end,speaker,face,discrete,text
    README.txt

Names are ``sample_XXXXXXXX`` from a seeded draw, unrelated to the label, and tables are
sorted by name, so neither names nor row order carry label information.

Each clip is an H.264 (yuv420p) + AAC mp4, 256x256 at 15 fps, 2-16 s long (mostly 3-7 s),
with one real photographed face (scikit-image's ``astronaut``, ``camera`` and the faces
of ``lfw_subset``, all shipped offline) and Mandarin speech from espeak-ng (voice ``cmn``
and its variants, driven through ctypes from the ``espeakng-loader`` wheel), resampled
to 16 kHz, with leading and trailing silence.

How the emotion is carried (only by the media, never by names, metadata or order):

* text: sentences are built from per-emotion phrase banks (:data:`PHRASES`) and neutral
  filler, plus per-emotion end punctuation, so hundreds of distinct sentences exist;
* prosody: per-emotion espeak rate, pitch, pitch range and volume (:data:`PROSODY`):
  angry loud and fast, sad slow, low, flat and soft, surprise high with a wide range,
  happy higher and faster, worried medium-fast with a narrow range, neutral mid;
  interpolated from neutral by a per-clip strength, then jittered per clip;
* face: per-emotion facial action (:data:`EXPRESSIONS`), smooth displacement fields
  around the detected landmarks applied with ``cv2.remap`` (mouth corners up for happy,
  down for sad, jaw open and brows up for surprise, brows down and in for angry, inner
  brows up and in for worried, none for neutral), animated over time, on top of
  speech-driven mouth motion and small head motion (shift, scale, rotation) for all.

The cues are imperfect on purpose, so that a single modality is not enough and fusion
helps: per clip, the prosody and face strengths are drawn in [0.35, 1] and the text holds
one or two emotion phrases; for about 25 % of the emotional clips one modality, chosen at
random, is made uninformative (neutral wording, neutral prosody, or no expression). Voices,
faces, speaker pitch and head motion vary independently of the label.

Determinism: everything is drawn from ``numpy.random.default_rng(seed)`` in one planning
pass (per-clip sub-seeds for the rendering). espeak-ng is not stateless (its noise
generator and its pitch-flutter phase carry over between utterances of a process), so its
random generators are reseeded before every utterance and all utterances of a corpus are
spoken in order by one fresh Python process (:func:`synthesize_batch`). Rendering and
resampling are deterministic, so the same seed gives identical CSV files and identical
decoded audio and video, whatever the number of workers. The mp4 files are encoded
single-threaded with ``-bitexact`` flags and no metadata, which makes them byte-identical
across runs with the same ffmpeg build (a different ffmpeg/x264 build may encode
differently: compare decoded media, not bytes). A different seed or different counts give
a different corpus.

Speed: the default corpus (120 + 60 clips, 3 episodes of 60 s) takes about 35 s on two
cores; ``workers`` threads render and encode clips side by side.
"""

from __future__ import annotations

import concurrent.futures
import csv
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labels import LABELS

FPS = 15
FRAME_SIZE = 256  # frames are FRAME_SIZE x FRAME_SIZE
SAMPLE_RATE = 16000
STEP_S = 0.2  # clip durations are whole steps: 3 frames and 3200 samples
MIN_CLIP_S = 2.0
MAX_CLIP_S = 16.0
NOISE_STD = 3e-4  # background noise floor (about -70 dBFS), so silence is not digital zero

LABELLED_DIR = "video-labeled"
UNLABELLED_DIR = "video-unlabeled-with-test2noise"
EPISODES_DIR = "raw-episodes"

# ---------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------

PHRASES: dict[str, tuple[str, ...]] = {
    "neutral": (
        "今天下午三点开会",
        "我刚从公司回来",
        "明天要去银行办事",
        "文件放在桌子上了",
        "我们下周再讨论",
        "火车八点出发",
        "把窗户关一下",
        "晚饭吃面条吧",
        "图书馆九点开门",
        "她明天去上海出差",
        "这条路往左拐",
        "会议室在三楼",
        "我在路上看到他了",
        "报告写完了",
    ),
    "angry": (
        "气死我了",
        "你怎么能这样",
        "简直太过分了",
        "我受够了",
        "别再骗我了",
        "你给我闭嘴",
        "这到底是谁干的",
        "我绝对不会原谅你",
        "你太让我生气了",
    ),
    "happy": (
        "太好了",
        "真开心",
        "我太高兴了",
        "这真是个好消息",
        "哈哈真棒",
        "我们成功了",
        "我好喜欢",
        "今天真是美好的一天",
        "太幸福了",
    ),
    "sad": (
        "我好难过",
        "心里很痛苦",
        "我真的好想哭",
        "他再也不会回来了",
        "一切都没有意义了",
        "我好孤单",
        "真是太遗憾了",
        "我失去了一切",
        "我的心都碎了",
    ),
    "worried": (
        "我有点担心",
        "怎么办呢",
        "万一出事了怎么办",
        "我心里很不安",
        "会不会来不及了",
        "他怎么还没回来",
        "我害怕考不过",
        "这样下去可不行啊",
        "我总觉得要出问题",
    ),
    "surprise": (
        "真的吗",
        "没想到",
        "天哪这怎么可能",
        "居然是你",
        "我完全没想到会这样",
        "什么你说什么",
        "哇这么快",
        "竟然发生了这种事",
        "不会吧",
    ),
}
ENDINGS: dict[str, str] = {
    "neutral": "。",
    "angry": "！",
    "happy": "！",
    "sad": "。",
    "worried": "。",
    "surprise": "？",
}


def make_sentence(label: str, rng: np.random.Generator, n_emotion: int = 1) -> str:
    """A sentence carrying ``label`` in its wording.

    ``n_emotion`` emotion phrases (1: plus one neutral filler phrase, 2: two emotion
    phrases); neutral sentences are two filler phrases.
    """
    filler = PHRASES["neutral"]
    if label == "neutral" or n_emotion <= 0:
        i, j = rng.choice(len(filler), size=2, replace=False)
        parts = [filler[i], filler[j]]
        return "，".join(parts) + ENDINGS["neutral"]
    bank = PHRASES[label]
    if n_emotion >= 2:
        i, j = rng.choice(len(bank), size=2, replace=False)
        parts = [bank[i], bank[j]]
    else:
        parts = [bank[int(rng.integers(len(bank)))], filler[int(rng.integers(len(filler)))]]
        if rng.random() < 0.4:
            parts.reverse()
    return "，".join(parts) + ENDINGS[label]


# ---------------------------------------------------------------------------------------
# Speech: espeak-ng through ctypes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prosody:
    """espeak-ng parameters: rate (words/min), pitch and range (0-100), volume (0-200)."""

    rate: int
    pitch: int
    range: int
    volume: int


PROSODY: dict[str, Prosody] = {
    "neutral": Prosody(rate=165, pitch=45, range=45, volume=55),
    "angry": Prosody(rate=225, pitch=55, range=75, volume=100),
    "happy": Prosody(rate=200, pitch=68, range=85, volume=75),
    "sad": Prosody(rate=115, pitch=22, range=10, volume=32),
    "worried": Prosody(rate=195, pitch=50, range=15, volume=48),
    "surprise": Prosody(rate=170, pitch=88, range=100, volume=75),
}

# Voices for the labelled/unlabelled clips and for the episode speakers (male and female).
VOICES: tuple[str, ...] = (
    "cmn",
    "cmn+m1",
    "cmn+m3",
    "cmn+m4",
    "cmn+m7",
    "cmn+Andy",
    "cmn+edward",
    "cmn+f1",
    "cmn+f2",
    "cmn+f3",
    "cmn+f4",
    "cmn+f5",
    "cmn+Annie",
    "cmn+linda",
)


def emotion_prosody(
    label: str, strength: float, rng: np.random.Generator, pitch_offset: int = 0
) -> Prosody:
    """``label``'s prosody at ``strength`` (0: neutral, 1: full), with per-clip jitter."""
    n, e = PROSODY["neutral"], PROSODY[label]

    def lerp(a: float, b: float) -> float:
        return a + strength * (b - a)

    rate = lerp(n.rate, e.rate) * (1 + rng.uniform(-0.06, 0.06))
    pitch = lerp(n.pitch, e.pitch) + rng.uniform(-4, 4) + pitch_offset
    rng_ = lerp(n.range, e.range) + rng.uniform(-6, 6)
    volume = lerp(n.volume, e.volume) * (1 + rng.uniform(-0.08, 0.08))
    return Prosody(
        rate=int(np.clip(round(rate), 80, 400)),
        pitch=int(np.clip(round(pitch), 0, 99)),
        range=int(np.clip(round(rng_), 0, 100)),
        volume=int(np.clip(round(volume), 5, 200)),
    )


class SpeechSynthesisError(RuntimeError):
    """espeak-ng could not be loaded or did not produce speech."""


class _Espeak:
    """One espeak-ng instance per process (the library keeps global state)."""

    _instance: _Espeak | None = None
    _pid: int | None = None

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        # espeak-ng draws noise (fricatives, breath) from a random generator whose state
        # carries over between utterances: reseed it before each one for determinism
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self.libc = ctypes.CDLL(None)
        self.libc.srand.argtypes = [ctypes.c_uint]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(2, 0, data, 0)  # 2: synchronous
        if self.sample_rate <= 0:
            raise SpeechSynthesisError(f"espeak_Initialize failed with data at {data!r}")
        self._chunks: list[np.ndarray] = []
        self._lock = threading.Lock()
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )
        self._callback = callback_type(self._collect)  # keep a reference alive
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n, _events) -> int:
        if n > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    @classmethod
    def get(cls) -> _Espeak:
        if cls._instance is None or cls._pid != os.getpid():
            cls._instance = cls()
            cls._pid = os.getpid()
        return cls._instance

    def synth(self, text: str, voice: str, prosody: Prosody) -> np.ndarray:
        with self._lock:  # one utterance at a time: the engine is a global
            return self._synth(text, voice, prosody)

    def _synth(self, text: str, voice: str, prosody: Prosody) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechSynthesisError(f"espeak-ng has no voice {voice!r}")
        for param, value in ((1, prosody.rate), (2, prosody.volume), (3, prosody.pitch)):
            self.lib.espeak_SetParameter(param, value, 0)
        self.lib.espeak_SetParameter(4, prosody.range, 0)
        self._chunks = []
        self.lib.espeak_ng_SetRandSeed(1)
        self.libc.srand(1)
        data = text.encode("utf-8") + b"\0"
        # flags: espeakCHARS_UTF8 (1) | espeakENDPAUSE (0x1000)
        status = self.lib.espeak_Synth(data, len(data), 0, 0, 0, 0x1001, None, None)
        self.lib.espeak_Synchronize()
        if status != 0 or not self._chunks:
            raise SpeechSynthesisError(f"espeak-ng produced no audio for {text!r} ({status})")
        return np.concatenate(self._chunks)


def _trim_silence(x: np.ndarray, sr: int, rel: float = 0.02, margin_s: float = 0.02) -> np.ndarray:
    hop = int(0.01 * sr)
    n = len(x) // hop
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
    active = np.flatnonzero(rms > max(1e-4, rel * rms.max()))
    if active.size == 0:
        return x[:0]
    margin = int(margin_s * sr)
    start = max(0, active[0] * hop - margin)
    end = min(len(x), (active[-1] + 1) * hop + margin)
    return x[start:end]


def synthesize_speech(text: str, voice: str, prosody: Prosody) -> np.ndarray:
    """Speech for ``text`` as float32 mono at 16 kHz, trimmed of leading/trailing silence.

    espeak-ng keeps some state between utterances of a process (its pitch "flutter" phase
    is a static counter that even ``espeak_Terminate`` does not reset), so the samples of
    one utterance depend slightly on what the process said before. Use
    :func:`synthesize_batch` where reproducibility matters.
    """
    from scipy.signal import resample_poly

    engine = _Espeak.get()
    raw = engine.synth(text, voice, prosody).astype(np.float64) / 32768.0
    raw = _trim_silence(raw, engine.sample_rate)
    g = np.gcd(SAMPLE_RATE, engine.sample_rate)
    speech = resample_poly(raw, SAMPLE_RATE // g, engine.sample_rate // g)
    if speech.size < int(0.3 * SAMPLE_RATE):
        raise SpeechSynthesisError(f"espeak-ng speech for {text!r} is shorter than 0.3 s")
    return np.clip(speech, -1.0, 1.0).astype(np.float32)


_BATCH_CHILD = (
    "import sys; from merlib.demo import _synthesize_files; _synthesize_files(*sys.argv[1:])"
)


def _synthesize_files(requests_json: str, out_npz: str) -> None:
    """Child side of :func:`synthesize_batch`."""
    requests = json.loads(Path(requests_json).read_text(encoding="utf-8"))
    speech = [synthesize_speech(text, voice, Prosody(*params)) for text, voice, params in requests]
    np.savez(out_npz, *speech)


def synthesize_batch(requests: Sequence[tuple[str, str, Prosody]]) -> list[np.ndarray]:
    """:func:`synthesize_speech` of each ``(text, voice, prosody)``, in a fresh process.

    The utterances are spoken in order by a new Python process, so the result depends
    only on ``requests`` (see :func:`synthesize_speech` for why).
    """
    if not requests:
        return []
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="merflow-tts-") as tmp:
        req, out = Path(tmp) / "requests.json", Path(tmp) / "speech.npz"
        payload = [
            (text, voice, [p.rate, p.pitch, p.range, p.volume]) for text, voice, p in requests
        ]
        req.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-c", _BATCH_CHILD, str(req), str(out)],
            env=env,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SpeechSynthesisError(
                f"speech synthesis of {len(requests)} utterances failed: "
                f"{proc.stderr.decode('utf-8', 'replace').strip()[-800:]}"
            )
        with np.load(out) as z:
            return [z[f"arr_{i}"] for i in range(len(requests))]


# ---------------------------------------------------------------------------------------
# Faces
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceAsset:
    """A face photo framed at FRAME_SIZE x FRAME_SIZE (BGR uint8) and its 5 landmarks.

    Landmarks (x, y): the eye on the image's left, the other eye, the nose tip, the mouth
    corner on the image's left, the other mouth corner (YuNet's order).
    """

    face_id: str
    image: np.ndarray
    landmarks: np.ndarray


def _frame_square(img: np.ndarray, cx: float, cy: float, side: float) -> np.ndarray:
    import cv2

    pad = int(side)
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    x0, y0 = int(round(cx - side / 2)) + pad, int(round(cy - side / 2)) + pad
    crop = padded[y0 : y0 + int(side), x0 : x0 + int(side)]
    interp = cv2.INTER_AREA if side > FRAME_SIZE else cv2.INTER_CUBIC
    return cv2.resize(crop, (FRAME_SIZE, FRAME_SIZE), interpolation=interp)


def _lfw_frame(face: np.ndarray, scale: int = 7) -> np.ndarray:
    """A 25x25 LFW face upscaled, on a smooth background shaded like its own edges."""
    import cv2

    gray = np.clip(face * 255.0 + 0.5, 0, 255).astype(np.uint8)
    side = 25 * scale
    up = cv2.resize(gray, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    a = (FRAME_SIZE - side) // 2
    b = FRAME_SIZE - side - a
    edge = np.concatenate([up[:, :6], up[:, -6:]], axis=1).mean(axis=1)  # per row
    rows = np.concatenate([np.full(a, edge[0]), edge, np.full(b, edge[-1])])
    background = np.repeat(rows[:, None], FRAME_SIZE, axis=1).astype(np.float32)
    background = cv2.GaussianBlur(background, (0, 0), 12)
    padded = cv2.copyMakeBorder(up, a, b, a, b, cv2.BORDER_REPLICATE)
    mask = np.zeros((FRAME_SIZE, FRAME_SIZE), np.float32)
    mask[a + 3 : a + side - 3, a + 3 : a + side - 3] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), 4)
    out = mask * padded + (1 - mask) * background
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _landmarks(image: np.ndarray) -> np.ndarray | None:
    import yuface

    scores, _boxes, marks = yuface.detect(image, conf=0.5)
    if len(scores) == 0:
        return None
    best = int(np.argmax(scores))
    if scores[best] < 75:
        return None
    return marks[best].astype(np.float32).reshape(5, 2)


def load_face_assets() -> list[FaceAsset]:
    """Every usable face: astronaut, cameraman and the LFW faces YuNet finds confidently."""
    import cv2
    from skimage import data

    candidates: list[tuple[str, np.ndarray]] = []
    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    candidates.append(("astronaut", _frame_square(astronaut, 222.5, 122.0, 236)))
    camera = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    candidates.append(("camera", _frame_square(camera, 228.0, 150.0, 176)))
    lfw = data.lfw_subset()[:100]  # the first 100 images are faces
    candidates += [(f"lfw_{i:03d}", _lfw_frame(face)) for i, face in enumerate(lfw)]
    assets = []
    for face_id, image in candidates:
        marks = _landmarks(image)
        if marks is not None:
            assets.append(FaceAsset(face_id, np.ascontiguousarray(image), marks))
    return assets


# Facial actions. Each control point: (anchor, at_out, at_up, move_out, move_up, radius),
# in units of the face scale (the inter-ocular distance, see _face_frame). "eye" and
# "corner" (mouth corner) anchors are mirrored on both sides of the face, "out" pointing
# away from the midline; "mouth" is the mouth centre. The point at anchor + at_* moves by
# move_*, the displacement fading as a Gaussian of the given radius.
ACTION_POINTS: dict[str, tuple[tuple[str, float, float, float, float, float], ...]] = {
    "smile": (("corner", 0.0, 0.0, 0.11, 0.2, 0.22), ("corner", 0.05, 0.25, 0.0, 0.06, 0.2)),
    "cheek_raise": (("eye", 0.1, -0.45, 0.0, 0.07, 0.22), ("eye", 0.0, -0.1, 0.0, 0.04, 0.1)),
    "frown": (("corner", 0.0, 0.0, -0.02, -0.2, 0.2),),
    "eye_droop": (("eye", 0.0, 0.12, 0.0, -0.04, 0.1),),
    "brow_raise": (
        ("eye", -0.18, 0.38, 0.0, 0.2, 0.22),
        ("eye", 0.2, 0.38, 0.0, 0.18, 0.22),
        ("eye", 0.0, 0.12, 0.0, 0.05, 0.1),
    ),
    "inner_brow_raise": (("eye", -0.18, 0.38, -0.06, 0.22, 0.17),),
    "brow_lower": (
        ("eye", -0.18, 0.38, -0.1, -0.19, 0.19),
        ("eye", 0.2, 0.38, 0.0, -0.08, 0.19),
        ("eye", 0.0, 0.12, 0.0, -0.04, 0.1),
    ),
    "lip_press": (("corner", 0.0, 0.0, -0.09, 0.0, 0.14),),
    "lip_stretch": (("corner", 0.0, 0.0, 0.13, -0.05, 0.17),),
    "jaw_open": (
        ("mouth", 0.0, -0.08, 0.0, -0.22, 0.22),
        ("mouth", 0.0, -0.5, 0.0, -0.16, 0.4),
        ("mouth", 0.0, 0.06, 0.0, 0.04, 0.1),
    ),
}
ACTIONS: tuple[str, ...] = tuple(ACTION_POINTS)

# Expressions: weights of the facial actions at full intensity.
EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "angry": {"brow_lower": 1.0, "lip_press": 1.0},
    "happy": {"smile": 1.0, "cheek_raise": 1.0},
    "sad": {"frown": 1.0, "inner_brow_raise": 0.7, "eye_droop": 1.0},
    "worried": {"inner_brow_raise": 1.0, "lip_stretch": 1.0},
    "surprise": {"brow_raise": 1.0, "jaw_open": 1.0},
}


def _face_frame(landmarks: np.ndarray) -> dict[str, np.ndarray | float]:
    eye_a, eye_b, nose, mouth_a, mouth_b = (landmarks[i].astype(np.float64) for i in range(5))
    eye_dist = float(np.linalg.norm(eye_b - eye_a))
    ex = (eye_b - eye_a) / max(eye_dist, 1e-6)  # image-rightwards along the eye line
    up = np.array([ex[1], -ex[0]])  # towards the forehead
    mouth = (mouth_a + mouth_b) / 2
    # face scale: the eye distance, or the eye-mouth distance for faces seen in profile
    iod = max(eye_dist, float(np.linalg.norm(mouth - (eye_a + eye_b) / 2)))
    return {
        "iod": iod,
        "ex": ex,
        "up": up,
        "eye_a": eye_a,
        "eye_b": eye_b,
        "nose": nose,
        "mouth_a": mouth_a,
        "mouth_b": mouth_b,
        "mouth": mouth,
    }


def _action_points(
    landmarks: np.ndarray, action: str
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(centre, displacement, radius) in pixels of the control points of one action."""
    f = _face_frame(landmarks)
    iod, ex, up = f["iod"], f["ex"], f["up"]
    pts = []
    for anchor, at_out, at_up, move_out, move_up, radius in ACTION_POINTS[action]:
        if anchor == "mouth":
            places = [(f["mouth"], ex)]
        elif anchor == "eye":
            places = [(f["eye_a"], -ex), (f["eye_b"], ex)]
        else:
            places = [(f["mouth_a"], -ex), (f["mouth_b"], ex)]
        for origin, out in places:
            centre = origin + iod * (at_out * out + at_up * up)
            pts.append((centre, iod * (move_out * out + move_up * up), radius * iod))
    return pts


def action_field(landmarks: np.ndarray, action: str, size: int = FRAME_SIZE) -> np.ndarray:
    """Displacement field (size, size, 2) of one facial action at full intensity, pixels."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.zeros((size, size, 2), np.float32)
    for centre, disp, radius in _action_points(landmarks, action):
        w = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * radius**2))
        field[..., 0] += np.float32(disp[0]) * w
        field[..., 1] += np.float32(disp[1]) * w
    return field


def expression_field(
    landmarks: np.ndarray, label: str, intensity: float = 1.0, size: int = FRAME_SIZE
) -> np.ndarray:
    """Displacement field (size, size, 2) of ``label``'s expression at ``intensity``."""
    field = np.zeros((size, size, 2), np.float32)
    for action, weight in EXPRESSIONS[label].items():
        field += np.float32(weight * intensity) * action_field(landmarks, action, size)
    return field


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    """One face on screen from ``start`` to ``end`` (s), speaking from ``speech_start``."""

    face: FaceAsset
    expression: str
    strength: float
    start: float
    end: float
    speech_start: float
    speech_end: float
    seed: int


class _ShotRenderer:
    def __init__(self, shot: Shot) -> None:
        import cv2

        self.shot = shot
        rng = np.random.default_rng(shot.seed)
        lm = shot.face.landmarks
        needed = set(EXPRESSIONS[shot.expression]) | {"jaw_open"}
        self.fields = {a: action_field(lm, a) for a in ACTIONS if a in needed}
        ys, xs = np.mgrid[0:FRAME_SIZE, 0:FRAME_SIZE].astype(np.float32)
        self.grid = np.stack([xs, ys], axis=-1)
        self.geo = _face_frame(lm)
        # expression timing: onset around speech start, ramp, gentle wobble
        self.onset = shot.speech_start + rng.uniform(-0.4, 0.3)
        self.ramp = rng.uniform(0.4, 1.0)
        self.wobble = (rng.uniform(0.3, 0.8), rng.uniform(0, 2 * np.pi))
        # head motion: sums of slow sinusoids
        self.motion = [
            (rng.uniform(1.5, 4.0), rng.uniform(0.15, 0.6), rng.uniform(0, 2 * np.pi))
            for _ in range(2)  # x shift
        ] + [
            (rng.uniform(1.0, 3.0), rng.uniform(0.15, 0.6), rng.uniform(0, 2 * np.pi))
            for _ in range(2)  # y shift
        ]
        self.scale = (rng.uniform(0.01, 0.03), rng.uniform(0.1, 0.4), rng.uniform(0, 2 * np.pi))
        self.rot = (rng.uniform(0.5, 2.5), rng.uniform(0.1, 0.4), rng.uniform(0, 2 * np.pi))
        self.gain = rng.uniform(0.9, 1.1)
        self.bias = rng.uniform(-10, 10)
        self.image = cv2.convertScaleAbs(shot.face.image, alpha=self.gain, beta=self.bias)

    def intensity(self, t: float) -> float:
        x = np.clip((t - self.onset) / self.ramp, 0.0, 1.0)
        ramp = x * x * (3 - 2 * x)
        amp, phase = self.wobble
        return float(self.shot.strength * ramp * (0.9 + 0.1 * np.sin(2 * np.pi * amp * t + phase)))

    def render(self, t: float, mouth_open: float) -> np.ndarray:
        import cv2

        k = self.intensity(t)
        disp = np.zeros_like(self.grid)
        jaw = 0.35 * mouth_open
        for action, weight in EXPRESSIONS[self.shot.expression].items():
            if action == "jaw_open":
                jaw += weight * k
            else:
                disp += np.float32(weight * k) * self.fields[action]
        jaw = min(jaw, 1.3)
        disp += np.float32(jaw) * self.fields["jaw_open"]
        maps = self.grid - disp
        frame = cv2.remap(
            self.image, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REFLECT_101
        )
        if jaw > 0.04:
            frame = self._mouth_cavity(frame, jaw)
        # head motion
        dx = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in self.motion[:2])
        dy = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in self.motion[2:])
        s = 1.0 + self.scale[0] * np.sin(2 * np.pi * self.scale[1] * t + self.scale[2])
        angle = self.rot[0] * np.sin(2 * np.pi * self.rot[1] * t + self.rot[2])
        centre = tuple(float(v) for v in self.geo["nose"])
        m = cv2.getRotationMatrix2D(centre, float(angle), float(s))
        m[0, 2] += dx
        m[1, 2] += dy
        return cv2.warpAffine(
            frame,
            m,
            (FRAME_SIZE, FRAME_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )

    def _mouth_cavity(self, frame: np.ndarray, jaw: float) -> np.ndarray:
        import cv2

        g = self.geo
        iod = g["iod"]
        down = -g["up"]
        centre = g["mouth"] + 0.07 * iod * jaw * down
        width = 0.5 * float(np.linalg.norm(g["mouth_b"] - g["mouth_a"]))
        half_w = 0.62 * width * (1.0 - 0.15 * min(jaw, 1.0))
        half_h = 0.1 * iod * jaw
        angle = float(np.degrees(np.arctan2(g["ex"][1], g["ex"][0])))
        mask = np.zeros(frame.shape[:2], np.float32)
        shift = 4  # sub-pixel precision of cv2.ellipse
        cv2.ellipse(
            mask,
            (int(round(centre[0] * 16)), int(round(centre[1] * 16))),
            (int(round(half_w * 16)), max(1, int(round(half_h * 16)))),
            angle,
            0,
            360,
            1.0,
            -1,
            cv2.LINE_AA,
            shift,
        )
        mask = cv2.GaussianBlur(mask, (0, 0), 1.2)[..., None] * 0.85
        dark = np.array([38, 30, 52], np.float32)
        return (frame * (1 - mask) + dark * mask).astype(np.uint8)


def _mouth_envelope(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """Mouth opening per video frame from the audio's short-time RMS, in [0, 1]."""
    hop = SAMPLE_RATE / FPS
    env = np.zeros(n_frames, np.float32)
    for i in range(n_frames):
        a = int(i * hop)
        seg = audio[a : int(a + hop)]
        if seg.size:
            env[i] = np.sqrt(np.mean(seg.astype(np.float64) ** 2))
    env = np.clip(env / 0.06, 0.0, 1.0)
    return np.where(env > 0.05, env, 0.0).astype(np.float32)


def render_frames(shots: Sequence[Shot], audio: np.ndarray, n_frames: int) -> Iterator[np.ndarray]:
    """BGR frames (FRAME_SIZE x FRAME_SIZE) for a timeline of shots with ``audio``."""
    env = _mouth_envelope(audio, n_frames)
    renderers: dict[int, _ShotRenderer] = {}
    for i in range(n_frames):
        t = i / FPS
        k = next((j for j, s in enumerate(shots) if s.start <= t < s.end), len(shots) - 1)
        if k not in renderers:
            renderers.clear()  # shots come in order: keep one renderer alive
            renderers[k] = _ShotRenderer(shots[k])
        yield renderers[k].render(t, float(env[i]))


# ---------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------


class EncodingError(RuntimeError):
    """ffmpeg failed to encode a demo clip."""


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


def encode_mp4(frames: Iterator[np.ndarray], audio: np.ndarray, out_path: Path) -> None:
    """Encode BGR ``frames`` at FPS and 16 kHz ``audio`` (same length) to H.264 + AAC."""
    out_path = Path(out_path)
    wav = out_path.with_suffix(".wav")
    _write_wav(wav, audio)
    size = f"{FRAME_SIZE}x{FRAME_SIZE}"
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", size, "-r", str(FPS), "-i", "pipe:0"]
    cmd += ["-i", str(wav), "-map", "0:v:0", "-map", "1:a:0"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    cmd += ["-threads", "1", "-c:a", "aac", "-b:a", "64k", "-ar", str(SAMPLE_RATE), "-ac", "1"]
    # no metadata, bit-exact muxing and encoding: identical input gives identical bytes
    cmd += ["-map_metadata", "-1", "-fflags", "+bitexact"]
    cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact", "-movflags", "+faststart"]
    cmd += [str(out_path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        proc.stdin.close()
        err = proc.stderr.read()
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        wav.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise EncodingError(
            f"{out_path}: ffmpeg exited with {proc.returncode}: "
            f"{err.decode('utf-8', 'replace').strip()[-500:]}"
        )


# ---------------------------------------------------------------------------------------
# Planning (all randomness lives here, in the main process)
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Rendering jobs (run in worker processes)
# ---------------------------------------------------------------------------------------


def _steps(seconds: float) -> int:
    return int(np.ceil(seconds / STEP_S - 1e-9))


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.standard_normal(n) * NOISE_STD).astype(np.float32)


def build_clip_audio(plan: ClipPlan, speech: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A clip's 16 kHz audio (a whole number of steps) and its speech start and end (s)."""
    rng = np.random.default_rng([plan.seed, 1])
    lead = int(rng.uniform(0.3, 0.7) * SAMPLE_RATE)
    trail = rng.uniform(0.3, 0.7)
    total_s = max(MIN_CLIP_S, (lead + speech.size) / SAMPLE_RATE + trail)
    n = _steps(total_s) * int(STEP_S * SAMPLE_RATE)
    if n / SAMPLE_RATE > MAX_CLIP_S:
        raise SpeechSynthesisError(
            f"{plan.name}: {n / SAMPLE_RATE:.1f} s of audio for {plan.text!r}, "
            f"over the {MAX_CLIP_S} s limit"
        )
    audio = _noise(rng, n)
    audio[lead : lead + speech.size] += speech
    return audio, lead / SAMPLE_RATE, (lead + speech.size) / SAMPLE_RATE


def render_clip(plan: ClipPlan, speech: np.ndarray, face: FaceAsset, out_path: Path) -> float:
    """Render and encode one clip; returns its duration in seconds."""
    audio, s0, s1 = build_clip_audio(plan, speech)
    duration = audio.size / SAMPLE_RATE
    n_frames = int(round(duration * FPS))
    shot = Shot(face, plan.expression, plan.face_strength, 0.0, duration + 1.0, s0, s1, plan.seed)
    encode_mp4(render_frames([shot], audio, n_frames), audio, out_path)
    return duration


@dataclass(frozen=True)
class Placed:
    segment: Segment
    start: float  # speech start (s)
    end: float  # speech end (s)


def build_episode_audio(
    segments: Sequence[Segment], speeches: Sequence[np.ndarray], seed: int, min_s: float
) -> tuple[np.ndarray, list[Placed], list[float]]:
    """Lay speech out back to back with silent gaps until at least ``min_s`` seconds.

    Returns the audio, the placed segments (speech boundaries) and the cut times (where
    the picture switches from one segment's face to the next).
    """
    rng = np.random.default_rng([seed, 3])
    ms = SAMPLE_RATE // 1000
    pos = int(rng.integers(400, 900)) * ms
    pieces: list[tuple[int, np.ndarray]] = []
    placed: list[Placed] = []
    cuts: list[float] = []
    for segment, speech in zip(segments, speeches, strict=True):
        if placed:
            gap = int(rng.integers(600, 1500)) * ms
            cuts.append((pos + int(gap * rng.uniform(0.3, 0.7))) / SAMPLE_RATE)
            pos += gap
        # speech lengths are rounded to whole milliseconds so boundaries are exact
        speech = speech[: speech.size // ms * ms]
        pieces.append((pos, speech))
        placed.append(Placed(segment, pos / SAMPLE_RATE, (pos + speech.size) / SAMPLE_RATE))
        pos += speech.size
        if pos / SAMPLE_RATE >= min_s - 0.5:
            break
    else:
        raise SpeechSynthesisError(
            f"{len(segments)} planned segments make only {pos / SAMPLE_RATE:.1f} s, under {min_s} s"
        )
    total_s = max(min_s, pos / SAMPLE_RATE + rng.uniform(0.5, 1.0))
    n = _steps(total_s) * int(STEP_S * SAMPLE_RATE)
    audio = _noise(rng, n)
    for start, speech in pieces:
        audio[start : start + speech.size] += speech
    return audio, placed, cuts


def render_episode(
    segments: Sequence[Segment],
    speeches: Sequence[np.ndarray],
    faces: dict[str, FaceAsset],
    seed: int,
    min_s: float,
    out_path: Path,
) -> tuple[float, list[Placed]]:
    """Render and encode one episode; returns its duration and the placed segments."""
    audio, placed, cuts = build_episode_audio(segments, speeches, seed, min_s)
    duration = audio.size / SAMPLE_RATE
    bounds = [0.0, *cuts, duration + 1.0]
    shots = [
        Shot(
            faces[p.segment.face_id],
            p.segment.expression,
            p.segment.face_strength,
            bounds[i],
            bounds[i + 1],
            p.start,
            p.end,
            p.segment.seed,
        )
        for i, p in enumerate(placed)
    ]
    n_frames = int(round(duration * FPS))
    encode_mp4(render_frames(shots, audio, n_frames), audio, out_path)
    return duration, placed


# ---------------------------------------------------------------------------------------
# Writing the corpus
# ---------------------------------------------------------------------------------------

README = """\
merflow demo corpus: SYNTHETIC data, for wiring and regression tests, not a benchmark.

Made by merlib.demo.make_demo_corpus(seed={seed}, clips_per_class={clips_per_class},
unlabelled_clips={unlabelled_clips}, episodes={episodes}).

Faces are scikit-image sample photos (astronaut, camera, lfw_subset) warped into
expressions; speech is espeak-ng Mandarin with per-emotion prosody; texts come from
per-emotion phrase banks. Cue strengths are random and about a quarter of the emotional
clips have one uninformative modality. Scores measured on this corpus say that the
pipeline works, not how good a method is.

Layout (MER2024 release layout):
  video-labeled/<name>.mp4, label-disdim.csv (name,discrete)
  video-unlabeled-with-test2noise/<name>.mp4
  label-transcription.csv (name,chinese) for every clip
  test-labels.csv (name,discrete): truth of the unlabelled clips (real releases lack it)
  raw-episodes/episode_NN.mp4 (>= {episode_min_s:g} s each, several speakers and faces),
  raw-episodes/episode_01.srt, raw-episodes/boundaries.csv
  (video,start,end,speaker,face,discrete,text: speech boundaries in seconds)
"""


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _write_srt(path: Path, placed: Sequence[Placed]) -> None:
    blocks = [
        f"{i}\n{_srt_time(p.start)} --> {_srt_time(p.end)}\n{p.segment.text}\n"
        for i, p in enumerate(placed, start=1)
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")


_T0 = time.monotonic()


def _log(message: str) -> None:
    print(f"[demo {time.monotonic() - _T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def make_demo_corpus(
    out_dir: str | Path,
    seed: int = 7,
    clips_per_class: int = 20,
    unlabelled_clips: int = 60,
    episodes: int = 3,
    workers: int = 2,
    *,
    episode_min_s: float = 60.0,
) -> None:
    """Write the demo corpus to ``out_dir`` (replaced if it exists), deterministically.

    The corpus is built in a temporary sibling folder and renamed into place at the end,
    so a killed run never leaves a half corpus that looks complete. ``workers`` threads
    render clips in parallel; the output does not depend on it. ``episode_min_s`` is the
    minimum episode length (60 s; tests use less).
    """
    if clips_per_class < 1 or unlabelled_clips < 0 or episodes < 0:
        raise ValueError(
            "clips_per_class must be >= 1 and unlabelled_clips, episodes >= 0; got "
            f"{clips_per_class}, {unlabelled_clips}, {episodes}"
        )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # leftovers of killed runs (building into one out_dir concurrently is not supported)
    leftover = re.compile(rf"\.{re.escape(out_dir.name)}\.(tmp|old)-\d+")
    for stale in out_dir.parent.iterdir():
        if leftover.fullmatch(stale.name) and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    t0 = time.monotonic()
    try:
        for sub in (LABELLED_DIR, UNLABELLED_DIR, EPISODES_DIR):
            (tmp / sub).mkdir(parents=True)
        _build(tmp, seed, clips_per_class, unlabelled_clips, episodes, workers, episode_min_s)
        (tmp / "README.txt").write_text(
            README.format(
                seed=seed,
                clips_per_class=clips_per_class,
                unlabelled_clips=unlabelled_clips,
                episodes=episodes,
                episode_min_s=episode_min_s,
            ),
            encoding="utf-8",
        )
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f"wrote {out_dir} in {time.monotonic() - t0:.1f} s")


def _build(
    root: Path,
    seed: int,
    clips_per_class: int,
    unlabelled_clips: int,
    episodes: int,
    workers: int,
    episode_min_s: float,
) -> None:
    _log("loading faces")
    assets = load_face_assets()
    faces = {a.face_id: a for a in assets}
    face_ids = [a.face_id for a in assets]
    _log(f"{len(face_ids)} faces usable")
    # Threads, not processes: the work is OpenCV and numpy (which release the GIL) and
    # ffmpeg (a process of its own); forking a process that has used OpenCV's thread pool
    # can hang the child, and spawned workers would re-run a Snakemake script's top level.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, int(workers)))
    try:
        clips = plan_clips(seed, clips_per_class, unlabelled_clips, face_ids)
        # more segments than needed (speech is never under 1.2 s); the unused are dropped
        n_segments = int(np.ceil(episode_min_s / 1.2)) + 3
        episode_plans = [
            plan_episode(i, seed, face_ids, n_segments) for i in range(1, episodes + 1)
        ]
        requests = [(p.text, p.voice, p.prosody) for p in clips]
        for segments in episode_plans:
            requests += [(s.text, s.voice, s.prosody) for s in segments]
        speech = synthesize_batch(requests)
        _log(f"synthesized {len(speech)} utterances")
        futures = {}
        offset = len(clips)
        for i, segments in enumerate(episode_plans, start=1):  # longest jobs first
            path = root / EPISODES_DIR / f"episode_{i:02d}.mp4"
            ep_seed = int(np.random.default_rng([seed, 4, i]).integers(2**63))
            futures[("episode", i)] = pool.submit(
                render_episode,
                segments,
                speech[offset : offset + len(segments)],
                {p.face_id: faces[p.face_id] for p in segments},
                ep_seed,
                episode_min_s,
                path,
            )
            offset += len(segments)
        for plan, audio in zip(clips, speech, strict=False):
            path = root / plan.folder / f"{plan.name}.mp4"
            futures[("clip", plan.name)] = pool.submit(
                render_clip, plan, audio, faces[plan.face_id], path
            )
        for future in futures.values():
            future.result()  # raise the first failure
        _log(f"rendered {len(clips)} clips and {episodes} episodes")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    labelled = [p for p in clips if p.folder == LABELLED_DIR]
    unlabelled = [p for p in clips if p.folder == UNLABELLED_DIR]
    _write_csv(
        root / "label-disdim.csv", ("name", "discrete"), [(p.name, p.label) for p in labelled]
    )
    _write_csv(
        root / "test-labels.csv", ("name", "discrete"), [(p.name, p.label) for p in unlabelled]
    )
    _write_csv(
        root / "label-transcription.csv", ("name", "chinese"), [(p.name, p.text) for p in clips]
    )
    rows = []
    for i in range(1, episodes + 1):
        _duration, placed = futures[("episode", i)].result()
        video = f"episode_{i:02d}"
        for p in placed:
            s = p.segment
            rows.append(
                (video, f"{p.start:.3f}", f"{p.end:.3f}", s.speaker, s.face_id, s.label, s.text)
            )
        if i == 1:
            _write_srt(root / EPISODES_DIR / f"{video}.srt", placed)
    _write_csv(
        root / EPISODES_DIR / "boundaries.csv",
        ("video", "start", "end", "speaker", "face", "discrete", "text"),
        rows,
    )


# ---------------------------------------------------------------------------------------
# Noise speech: the demo's stand-in for MUSAN's speech subset (MER-NOISE without a download)
# ---------------------------------------------------------------------------------------


def make_noise_speech(
    out_dir: str | Path, seed: int = 7, n_files: int = 12, sentences: int = 4
) -> list[Path]:
    """Write ``n_files`` WAV files of synthetic babble to ``out_dir`` (replaced if it
    exists), deterministically: each file ``sentences`` neutral-prosody sentences in one
    voice, 16 kHz mono, like a MUSAN speech file (one speaker reading). MER-NOISE mixes them
    into the evaluation clips when the demo runs without ``noise.musan_dir``.

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
        paths = []
        pause = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
        for i in range(n_files):
            parts = speech[i * sentences : (i + 1) * sentences]
            audio = np.concatenate([x for part in parts for x in (part, pause)])
            path = tmp / f"speech-demo-{i:04d}.wav"
            _write_wav(path, audio)
            paths.append(out_dir / path.name)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f"wrote {n_files} noise speech files ({', '.join(sorted(set(voices)))}) to {out_dir}")
    return paths
