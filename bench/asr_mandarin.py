"""Benchmark: Mandarin ASR on real speech, clean and noisy, per decoding option.

Data: the 21 real Mandarin recordings of ``../shared/data/audio/mandarin/`` (AISHELL-1,
AISHELL-3, THCHS-30, FLEURS, a FunASR demo line; reference text in ``transcripts.csv``),
in three conditions:

- ``clean``: as recorded (44.1 kHz files resampled to 16 kHz);
- ``kitchen``: plus ``../shared/data/noise/doing_the_dishes.wav`` (a real kitchen
  recording) from a random offset, at an SNR drawn uniformly in 0-10 dB per clip;
- ``music``: plus music synthesised here (:func:`synth_music`: chords of harmonic tones, a
  pentatonic melody, kick, snare and hi-hat at 100 bpm), at an SNR drawn in 0-10 dB.

The draws are seeded (``--seed``), so every option hears the same noisy copies.

Per option (model and :class:`merlib.whisper.DecodeOptions`): CER per condition (corpus
CER: edits over reference characters, after :func:`merlib.asr_text.normalise_for_cer`:
punctuation, spaces, width and simplified/traditional variants normalised), the CER when
traditional characters count as errors (``strict``), the clips answered in traditional
characters before conversion, the clips left empty, and the real-time factor (decoding
seconds over audio seconds, on ``--threads`` CPU threads). ``--repeat`` decodes the noisy
conditions a second time and counts the clips whose text changed. ``--no-speech N``
instead counts, per option, the speechless 5 s excerpts (N of the kitchen recording, N of
the music) it writes text for.

    nice .venv/bin/python bench/asr_mandarin.py --threads 2 [--options A,B] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
import wave
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from merlib.asr_text import character_errors, edit_distance, to_simplified
from merlib.transcripts import ZH_PROMPT
from merlib.whisper import DecodeOptions, Transcriber, finish_text

DATA = REPO.parent / "shared" / "data"
MANDARIN = DATA / "audio" / "mandarin"
KITCHEN = DATA / "noise" / "doing_the_dishes.wav"
SR = 16000
POOL = 115_595

SEEDED = "seeded"
# Decoding options compared; the text post-processing (simplified script, repetition cut,
# hallucination drop) is applied to every option's output (and measured without it for A).
OPTIONS = {
    "A": ("base", DecodeOptions(beam_size=1, temperature_fallback=SEEDED)),
    "B": ("base", DecodeOptions(beam_size=5, temperature_fallback=SEEDED)),
    "C": ("base", DecodeOptions(beam_size=5, vad=True, temperature_fallback=SEEDED)),
    "D": (
        "base",
        DecodeOptions(beam_size=5, initial_prompt=ZH_PROMPT, temperature_fallback=SEEDED),
    ),
    "E": (
        "base",
        DecodeOptions(beam_size=5, vad=True, initial_prompt=ZH_PROMPT, temperature_fallback=SEEDED),
    ),
    "F": (
        "base",
        DecodeOptions(beam_size=5, vad=True, initial_prompt=ZH_PROMPT, temperature_fallback="none"),
    ),
    "G": (
        "base",
        DecodeOptions(beam_size=1, vad=True, initial_prompt=ZH_PROMPT, temperature_fallback=SEEDED),
    ),
    "H": (
        "base",
        DecodeOptions(beam_size=1, initial_prompt=ZH_PROMPT, temperature_fallback=SEEDED),
    ),
    "I": ("base", DecodeOptions(beam_size=1, vad=True, temperature_fallback=SEEDED)),
    "J": ("base", DecodeOptions(beam_size=1, vad=True, temperature_fallback="none")),
}


def read_wav(path: Path) -> np.ndarray:
    """A mono 16-bit WAV as float32 at 16 kHz (polyphase resampling from 44.1 kHz)."""
    from scipy.signal import resample_poly

    with wave.open(str(path)) as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit PCM")
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    audio = pcm.astype(np.float32) / 32768.0
    if rate != SR:
        g = np.gcd(rate, SR)
        audio = resample_poly(audio, SR // g, rate // g).astype(np.float32)
    return audio


def _tone(freq: float, n: int, harmonics: int = 6) -> np.ndarray:
    t = np.arange(n) / SR
    wave_ = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    attack = np.minimum(1.0, t / 0.01)
    return (wave_ * attack * np.exp(-2.5 * t)).astype(np.float32)


def synth_music(seconds: float, seed: int) -> np.ndarray:
    """Pop-like music at 16 kHz: a I-V-vi-IV chord progression (each chord a bar of
    harmonic tones), a pentatonic melody in eighth notes, and a drum kit (kick on 1 and 3,
    snare on 2 and 4, hi-hat on eighths) at 100 bpm."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    beat = int(SR * 60 / 100)
    out = np.zeros(n + 4 * beat, dtype=np.float32)  # room for the last bar's tail
    midi = lambda m: 440.0 * 2 ** ((m - 69) / 12)  # noqa: E731
    chords = [(60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60)]
    penta = [72, 74, 76, 79, 81, 84]
    for bar, start in enumerate(range(0, n, 4 * beat)):
        for m in chords[bar % 4]:
            out[start : start + 4 * beat] += 0.25 * _tone(midi(m - 12), 4 * beat)
        for e in range(8):
            s = start + e * beat // 2
            if rng.random() < 0.8:
                out[s : s + beat // 2] += 0.3 * _tone(midi(rng.choice(penta)), beat // 2, 4)
    t = np.arange(beat) / SR
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    snare = rng.standard_normal(beat) * np.exp(-t * 25) * 0.5
    hat_n = beat // 4
    hat = np.diff(rng.standard_normal(hat_n + 1)) * np.exp(-np.arange(hat_n) / SR * 80) * 0.15
    for b, start in enumerate(range(0, n, beat)):
        out[start : start + beat] += (kick if b % 2 == 0 else snare).astype(np.float32)
        for h in (start, start + beat // 2):
            out[h : h + hat_n] += hat.astype(np.float32)
    out = out[:n]
    return out / np.max(np.abs(out)) * 0.8


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float, rng) -> np.ndarray:
    """``clean`` plus a random stretch of ``noise`` scaled to ``snr_db``."""
    offset = int(rng.integers(0, len(noise) - len(clean)))
    piece = noise[offset : offset + len(clean)].astype(np.float64)
    p_clean = np.mean(np.square(clean, dtype=np.float64))
    p_noise = np.mean(np.square(piece)) or 1e-12
    scale = np.sqrt(p_clean / (p_noise * 10 ** (snr_db / 10)))
    noisy = clean + scale * piece
    peak = np.max(np.abs(noisy))
    return (noisy / peak * 0.99 if peak > 1 else noisy).astype(np.float32)


def conditions(seed: int) -> tuple[list[dict], dict[str, list[np.ndarray]]]:
    with open(MANDARIN / "transcripts.csv", newline="", encoding="utf-8") as f:
        clips = sorted(csv.DictReader(f), key=lambda r: r["name"])
    clean = [read_wav(MANDARIN / c["name"]) for c in clips]
    kitchen = read_wav(KITCHEN)
    music = synth_music(60.0, seed)
    rng = np.random.default_rng(seed)
    sets = {"clean": clean, "kitchen": [], "music": []}
    for c, audio in zip(clips, clean, strict=True):
        for what, noise in (("kitchen", kitchen), ("music", music)):
            snr = float(rng.uniform(0, 10))
            c[f"snr_{what}"] = round(snr, 2)
            sets[what].append(mix(audio, noise, snr, rng))
    return clips, sets


def strict_errors(ref: str, hyp: str) -> tuple[int, int]:
    """Character errors with traditional characters counted as errors."""
    import unicodedata

    from merlib.asr_text import _DROP

    norm = lambda s: _DROP.sub("", unicodedata.normalize("NFKC", s or "").lower())  # noqa: E731
    r, h = norm(ref), norm(hyp)
    return edit_distance(r, h), len(r)


def run_option(key, model, opts, clips, sets, threads, cache, repeat):
    raw = replace(opts, simplified=False, cut_repetitions=False)
    load = time.perf_counter()
    asr = Transcriber(model, cache, "zh", threads=threads, options=raw)
    load = time.perf_counter() - load
    rows, summary = [], {}
    for cond, audios in sets.items():
        tot = {"e": 0, "n": 0, "e_raw": 0, "se_raw": 0, "sec": 0.0, "cpu": 0.0, "audio": 0.0}
        trad = empty = changed = 0
        for clip, audio in zip(clips, audios, strict=True):
            t0, c0 = time.perf_counter(), time.process_time()
            out = asr.transcribe(audio)
            sec = time.perf_counter() - t0
            tot["cpu"] += time.process_time() - c0
            text, reason = (
                finish_text(out.text, out.language, opts) if not out.reason else ("", out.reason)
            )
            e, n = character_errors(clip["text"], text)
            e_raw, _ = character_errors(clip["text"], out.text)
            se_raw, _ = strict_errors(clip["text"], out.text)
            trad += to_simplified(out.text) != out.text
            empty += not text
            tot["e"] += e
            tot["n"] += n
            tot["e_raw"] += e_raw
            tot["se_raw"] += se_raw
            tot["sec"] += sec
            tot["audio"] += len(audio) / SR
            row = {
                "option": key,
                "condition": cond,
                "name": clip["name"],
                "ref": clip["text"],
                "raw": out.text,
                "text": text,
                "reason": reason,
                "cer": e / n,
                "seconds": round(sec, 3),
            }
            if repeat and cond != "clean":
                again = asr.transcribe(audio).text
                row["rerun_differs"] = again != out.text
                changed += again != out.text
            rows.append(row)
        summary[cond] = {
            "cer": tot["e"] / tot["n"],
            "cer_no_post": tot["e_raw"] / tot["n"],
            "strict_cer_no_post": tot["se_raw"] / tot["n"],
            "traditional": trad,
            "empty": empty,
            "rtf": tot["sec"] / tot["audio"],
            "sec_per_clip": tot["sec"] / len(clips),
            "cpu_rtf": tot["cpu"] / tot["audio"],
            "cpu_per_clip": tot["cpu"] / len(clips),
            "rerun_changed": changed if repeat and cond != "clean" else None,
        }
        s = summary[cond]
        print(
            f"{key} {cond:8s} CER {s['cer']:.3f} (no post {s['cer_no_post']:.3f}, strict "
            f"{s['strict_cer_no_post']:.3f}) traditional {trad:2d} empty {empty:2d} "
            f"RTF {s['rtf']:.3f} ({s['sec_per_clip']:.2f} s/clip, CPU {s['cpu_per_clip']:.2f} s)"
            + (f" rerun changed {changed}" if repeat and cond != "clean" else ""),
            flush=True,
        )
    return {"option": key, "model": model, "load_s": load, **asdict(opts)}, summary, rows


def no_speech(keys, n, seconds, threads, cache, seed) -> None:
    """How many speechless excerpts (``n`` of ``seconds`` each from the kitchen recording
    and from the synthesised music) each option writes text for."""
    rng = np.random.default_rng(seed)
    kitchen, music = read_wav(KITCHEN), synth_music(60.0, seed + 1)
    excerpts = []
    for what, noise in (("kitchen", kitchen), ("music", music)):
        for _ in range(n):
            start = int(rng.integers(0, len(noise) - int(seconds * SR)))
            excerpts.append((what, noise[start : start + int(seconds * SR)]))
    for key in keys:
        model, opts = OPTIONS[key]
        asr = Transcriber(model, cache, "zh", threads=threads, options=opts)
        texts = {"kitchen": [], "music": []}
        for what, audio in excerpts:
            texts[what].append(asr.transcribe(audio).text)
        for what, got in texts.items():
            said = [t for t in got if t]
            print(f"{key} no-speech {what}: text on {len(said)}/{len(got)} {said[:4]}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--options", default=",".join(OPTIONS), help="keys of OPTIONS to run")
    ap.add_argument("--model", help="run every option with this model instead (a folder)")
    ap.add_argument("--conditions", default="clean,kitchen,music", help="which to decode")
    ap.add_argument("--clips", type=int, default=0, help="only the first N clips (smoke)")
    ap.add_argument("--repeat", action="store_true", help="decode noisy clips twice")
    ap.add_argument("--no-speech", type=int, default=0, help="N speechless excerpts instead")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "asr_mandarin")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "merflow-bench-models"
    if args.no_speech:
        no_speech(args.options.split(","), args.no_speech, 5.0, args.threads, cache, args.seed)
        return
    clips, sets = conditions(args.seed)
    sets = {k: v for k, v in sets.items() if k in args.conditions.split(",")}
    if args.clips:
        clips = clips[: args.clips]
        sets = {k: v[: args.clips] for k, v in sets.items()}
    audio_s = sum(len(a) for a in next(iter(sets.values()))) / SR
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio per condition, {args.threads} threads")
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for key in args.options.split(","):
        model, opts = OPTIONS[key]
        model = args.model or model
        spec, summary, rows = run_option(
            key, model, opts, clips, sets, args.threads, cache, args.repeat
        )
        results.append({"spec": spec, "summary": summary})
        with open(args.out / f"{key}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        clean = summary[next(iter(summary))]
        hours = clean["sec_per_clip"] * POOL / 3600
        print(
            f"{key}: {model} {spec} -> {POOL} clips at the first condition's "
            f"{clean['sec_per_clip']:.2f} s/clip: {hours:.1f} h on {args.threads} threads",
            flush=True,
        )
    with open(args.out / "summary.json", "w", encoding="utf-8") as f:
        json.dump({"clips": clips, "results": results}, f, ensure_ascii=False, indent=1)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
