"""The demo's noise speech: its stand-in for MUSAN's speech subset (MER-NOISE on the demo)."""

from __future__ import annotations

import wave

import numpy as np

from merlib.demo.noise_speech import make_noise_speech
from merlib.noise.corpus import find_noise_files, load_noise

SEED = 11


def test_noise_speech_is_reproducible_16k_mono_wav_that_mer_noise_reads(tmp_path):
    a = make_noise_speech(tmp_path / "a", seed=SEED, n_files=2, sentences=1)
    b = make_noise_speech(tmp_path / "b", seed=SEED, n_files=2, sentences=1)
    c = make_noise_speech(tmp_path / "c", seed=SEED + 1, n_files=2, sentences=1)
    assert [p.name for p in a] == ["speech-demo-0000.wav", "speech-demo-0001.wav"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]
    for path in a:
        with wave.open(str(path)) as w:
            assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 16000, 2)
            assert w.getnframes() > 0.5 * 16000  # a sentence and a pause
    assert find_noise_files(tmp_path / "a") == a
    speech = load_noise(a[0], 16000).astype(np.float64) / 32768
    assert np.sqrt(np.mean(speech**2)) > 0.01  # speech, not silence
    assert not list(tmp_path.glob(".*tmp*"))  # nothing left half-written
