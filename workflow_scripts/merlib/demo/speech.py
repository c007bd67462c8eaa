"""Mandarin speech from espeak-ng (driven through ctypes from the ``espeakng-loader``
wheel) with per-emotion prosody, resampled to 16 kHz."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .spec import SAMPLE_RATE


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
    "import sys; from merlib.demo.speech import _synthesize_files; _synthesize_files(*sys.argv[1:])"
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
    package_root = str(Path(__file__).resolve().parents[2])
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
