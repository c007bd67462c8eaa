"""The transformers backend on tiny randomly initialised models built here (no model hub).

Each model is made from a ``transformers`` config, saved with ``save_pretrained`` and
loaded back by path through the feature registry, exactly as a user's Hugging Face id or
local folder is. Audio is real speech from ../shared/data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hf_models import save_tiny_model

from merlib.features.audio_chunks import chunk_signal
from merlib.features.base import build_encoder
from merlib.features.extraction import extract_shard
from merlib.features.hf_visual import uniform_indices
from merlib.schemas import AUDIO, FACES, features_schema, table_from_rows

transformers = pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data"
TEXTS = ["我今天很开心", "你好，很高兴见到你", "我不想去。", "开心"]
SR = 16000

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"real test media not found at {DATA} (see shared/data/README.md)"
)


def _speech_config(norm: str):
    return transformers.HubertConfig(
        hidden_size=32,
        num_hidden_layers=5,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm=norm,
        do_stable_layer_norm=norm == "layer",
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    """Tiny random models of every kind the backend serves, saved to folders."""
    t = transformers
    root = tmp_path_factory.mktemp("hf")
    torch.manual_seed(0)
    out = {}
    out["hubert"] = save_tiny_model(
        t.HubertModel(_speech_config("layer")),
        root / "hubert",
        t.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True),
    )
    out["wav2vec2_group"] = save_tiny_model(  # wav2vec 2.0 / HuBERT *base*: group norm, no masking
        t.Wav2Vec2Model(t.Wav2Vec2Config(**_speech_config("group").to_diff_dict())),
        root / "w2v",
        t.Wav2Vec2FeatureExtractor(do_normalize=False, return_attention_mask=False),
    )
    out["whisper"] = save_tiny_model(
        t.WhisperModel(
            t.WhisperConfig(
                d_model=32,
                encoder_layers=4,
                decoder_layers=1,
                encoder_attention_heads=2,
                decoder_attention_heads=2,
                encoder_ffn_dim=64,
                decoder_ffn_dim=64,
                vocab_size=64,
                pad_token_id=0,
                bos_token_id=1,
                eos_token_id=2,
                decoder_start_token_id=1,
            )
        ),
        root / "whisper",
        t.WhisperFeatureExtractor(feature_size=80),
    )
    vocab = root / "vocab.txt"
    chars = sorted(set("".join(TEXTS)))
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n")
    tokenizer = t.BertTokenizer(str(vocab))
    small = dict(hidden_size=32, num_hidden_layers=5, num_attention_heads=2, intermediate_size=64)
    out["bert"] = save_tiny_model(
        t.BertModel(t.BertConfig(vocab_size=64, **small)), root / "bert", tokenizer
    )
    out["llama"] = save_tiny_model(
        t.LlamaModel(t.LlamaConfig(vocab_size=64, num_key_value_heads=2, pad_token_id=0, **small)),
        root / "llama",
        tokenizer,
    )
    vision = dict(small, num_hidden_layers=2, image_size=32, patch_size=8)
    out["clip"] = save_tiny_model(
        t.CLIPModel(t.CLIPConfig(text_config=dict(small), vision_config=vision, projection_dim=16)),
        root / "clip",
        t.CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
    )
    out["dinov2"] = save_tiny_model(
        t.Dinov2Model(t.Dinov2Config(**vision)),
        root / "dinov2",
        t.BitImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
    )
    out["videomae"] = save_tiny_model(
        t.VideoMAEModel(t.VideoMAEConfig(num_frames=16, tubelet_size=2, **vision)),
        root / "videomae",
        t.VideoMAEImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
    )
    return out


def _encoder(models, kind: str, modality: str, **options):
    spec = {"modality": modality, "backend": "transformers", "model": models[kind]}
    return build_encoder(kind, {**spec, "options": {"device": "cpu", **options}}, threads=1)


@pytest.fixture(scope="module")
def speech() -> list[np.ndarray]:
    import soundfile as sf

    long, rate = sf.read(DATA / "audio" / "speech_60s_silero_test.wav", dtype="float32")
    assert rate == SR
    clips = [sf.read(p, dtype="float32")[0] for p in sorted(DATA.glob("audio/librispeech/*.flac"))]
    # Different lengths, one over 10 s (two chunks), one shorter than a second.
    return [clips[0][: 3 * SR], long[: 23 * SR], clips[1][: int(0.7 * SR)], clips[2][: 5 * SR]]


@pytest.fixture(scope="module")
def faces() -> list[list[np.ndarray]]:
    import cv2

    images = [
        cv2.cvtColor(cv2.imread(str(DATA / "images" / f"{n}.jpg")), cv2.COLOR_BGR2RGB)
        for n in ("obama", "biden", "obama2")
    ]
    crops = [cv2.resize(im[:400, :400], (112, 112)) for im in images]
    return [[crops[0], crops[1]], [crops[2]], [crops[1], crops[0], crops[2], crops[0]]]


def _manual_speech(encoder, chunks: list[np.ndarray]) -> np.ndarray:
    """The reference recipe written out: per chunk, sum of last 4 layers, frame-weighted mean."""
    total, frames = 0.0, 0
    for chunk in chunks:
        x = encoder.extractor(chunk, sampling_rate=SR, return_tensors="pt")["input_values"]
        with torch.no_grad():
            hidden = encoder.model(x, output_hidden_states=True).hidden_states
        summed = torch.stack(hidden[-4:]).sum(0)[0]
        total = total + summed.sum(0).double().numpy()
        frames += summed.shape[0]
    return (total / frames).astype(np.float32)


# -------------------------------------------------------------------------------- audio


def test_speech_encoder_sums_last_four_layers_and_averages_over_time(models, speech):
    encoder = _encoder(models, "hubert", "audio")
    out = encoder.encode([speech[0]])
    assert out.shape == (1, 32) and encoder.dim == 32
    np.testing.assert_allclose(out[0], _manual_speech(encoder, [speech[0]]), atol=1e-5)
    # Not simply the last layer: the sum of four differs from it.
    one_layer = _encoder(models, "hubert", "audio", layers=1).encode([speech[0]])
    assert np.abs(one_layer - out).max() > 1e-3


def test_long_audio_is_cut_into_10s_chunks_pooled_over_all_frames(models, speech):
    encoder = _encoder(models, "hubert", "audio")
    chunks = chunk_signal(speech[1], 10 * SR)
    assert [len(c) / SR for c in chunks] == [10.0, 10.0, 3.0]
    out = encoder.encode([speech[1]])
    np.testing.assert_allclose(out[0], _manual_speech(encoder, chunks), atol=1e-5)
    whole = _encoder(models, "hubert", "audio", chunk_seconds=30).encode([speech[1]])
    assert np.abs(whole - out).max() > 1e-4  # chunking is real, not a no-op


@pytest.mark.parametrize("kind", ["hubert", "wav2vec2_group", "whisper"])
def test_audio_embedding_does_not_depend_on_batch_neighbours(models, speech, kind):
    encoder = _encoder(models, kind, "audio", batch_size=3)
    solo = np.concatenate([encoder.encode([s]) for s in speech])
    together = encoder.encode(speech)
    reordered = encoder.encode(speech[::-1])[::-1]
    np.testing.assert_allclose(together, solo, atol=1e-5)
    np.testing.assert_allclose(reordered, solo, atol=1e-5)
    assert np.isfinite(solo).all() and len({tuple(r) for r in solo.round(5)}) == len(speech)


def test_whisper_averages_encoder_states_over_frames_holding_audio_only(models, speech):
    encoder = _encoder(models, "whisper", "audio")
    assert encoder.dim == 32
    clip = speech[0]  # 3 s: 150 of the 1500 encoder frames hold audio
    feats = encoder.extractor(clip, sampling_rate=SR, return_tensors="pt")["input_features"]
    with torch.no_grad():
        hidden = encoder.encoder(feats, output_hidden_states=True).hidden_states
    summed = torch.stack(hidden[-4:]).sum(0)[0]
    np.testing.assert_allclose(encoder.encode([clip])[0], summed[:150].mean(0), atol=1e-5)
    assert np.abs(summed.mean(0).numpy() - summed[:150].mean(0).numpy()).max() > 1e-3


def test_chunk_tail_shorter_than_a_frame_is_left_out_not_fatal(models, speech):
    encoder = _encoder(models, "hubert", "audio")
    clip = speech[1][: 10 * SR + 100]  # 10 s and 100 samples: the second chunk has no frame
    np.testing.assert_allclose(encoder.encode([clip]), encoder.encode([clip[: 10 * SR]]), atol=1e-5)
    assert np.isnan(encoder.encode([clip[:100]])).all()  # alone: NaN (a reject), no crash


def test_audio_clip_too_short_for_a_frame_is_rejected_with_its_duration(models, speech):
    rows = []
    for name, signal in (("ok", speech[0]), ("blip", speech[0][:200])):
        pcm = (signal * 32767).astype("<i2").tobytes()
        rows.append({"name": name, "sample_rate": SR, "duration": len(signal) / SR, "pcm": pcm})
    manifest = _manifest(["ok", "blip"], [None, None])
    spec = {"modality": "audio", "backend": "transformers", "model": models["hubert"]}
    features, rejects = extract_shard("hubert", spec, manifest, table_from_rows(rows, AUDIO), None)
    assert features.schema.equals(features_schema(32))
    assert features.column("name").to_pylist() == ["ok"]
    assert "non-finite" in rejects.column("reason")[0].as_py()


# --------------------------------------------------------------------------------- text


def _manifest(names, texts):
    from merlib.schemas import MANIFEST

    rows = [
        dict(name=n, split="train", path=f"{n}.mp4", discrete=None, transcription=t, shard="000")
        for n, t in zip(names, texts, strict=True)
    ]
    return table_from_rows(rows, MANIFEST)


def test_text_encoder_averages_last_four_layers_over_the_text_tokens_only(models):
    encoder = _encoder(models, "bert", "text")
    tok = encoder.tokenizer(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        hidden = encoder.model(**tok, output_hidden_states=True).hidden_states
    summed = torch.stack(hidden[-4:]).sum(0)[0]
    expected = summed[1:-1].mean(0).numpy()  # [CLS] and [SEP] left out
    np.testing.assert_allclose(encoder.encode([TEXTS[0]])[0], expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_text_embedding_does_not_depend_on_batch_neighbours(models, kind):
    encoder = _encoder(models, kind, "text", batch_size=4)
    solo = np.concatenate([encoder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(encoder.encode(TEXTS), solo, atol=1e-5)
    np.testing.assert_allclose(encoder.encode(TEXTS[::-1])[::-1], solo, atol=1e-5)


def test_empty_transcription_gives_zero_vector_with_transformers(models):
    names = ["said", "silent", "blank"]
    spec = {"modality": "text", "backend": "transformers", "model": models["llama"]}
    manifest = _manifest(names, [TEXTS[1], None, "  "])
    features, rejects = extract_shard("llm", spec, manifest, None, None)
    emb = np.array(features.column("embedding").to_pylist())
    assert rejects.num_rows == 0 and emb.shape == (3, 32)
    assert emb[0].any() and not emb[1].any() and not emb[2].any()


# ------------------------------------------------------------------------------- visual


@pytest.mark.parametrize(("kind", "dim"), [("clip", 16), ("dinov2", 32)])
def test_image_encoder_averages_per_frame_embeddings_over_the_clip(models, faces, kind, dim):
    encoder = _encoder(models, kind, "visual", batch_size=1)
    out = encoder.encode(faces)
    assert out.shape == (3, dim) and encoder.dim == dim
    for clip, row in zip(faces, out, strict=True):
        frames = np.concatenate([encoder.frame_embeddings([c]) for c in clip])  # one at a time
        np.testing.assert_allclose(row, frames.mean(0), atol=1e-5)
    if kind == "clip":  # get_image_features: the projected embedding
        pixels = encoder.processor(images=faces[1], return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            ref = encoder.model.get_image_features(pixel_values=pixels).pooler_output
        np.testing.assert_allclose(out[1], ref[0].numpy(), atol=1e-5)


def test_videomae_samples_16_crops_uniformly_and_is_batch_independent(models, faces):
    assert uniform_indices(4, 16).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    assert uniform_indices(31, 16)[[0, -1]].tolist() == [0, 30]
    encoder = _encoder(models, "videomae", "visual")
    solo = np.concatenate([encoder.encode([clip]) for clip in faces])
    assert solo.shape == (3, 32) and np.isfinite(solo).all()
    np.testing.assert_allclose(encoder.encode(faces), solo, atol=1e-5)


def test_visual_transformers_feature_through_extract_shard(models, faces):
    import cv2

    rows = []
    for name, clip in (("a", faces[0]), ("b", faces[2])):
        for i, crop in enumerate(clip):
            png = cv2.imencode(".png", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))[1].tobytes()
            rows.append(
                dict(name=name, frame=i, time=i / 4, n_faces=1, score=0.9, x=0, y=0, w=112, h=112)
                | {"crop": png}
            )
    spec = {"modality": "visual", "backend": "transformers", "model": models["clip"]}
    manifest = _manifest(["a", "nobody", "b"], [None] * 3)
    features, rejects = extract_shard("clip", spec, manifest, None, table_from_rows(rows, FACES))
    assert features.column("name").to_pylist() == ["a", "b"]
    assert rejects.column("name").to_pylist() == ["nobody"]


# ------------------------------------------------------------------------- options/safety


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trust_remote_code": "yes"}, "trust_remote_code must be true or false"),
        ({"layers": 0}, "layers must be an integer"),
        ({"layers": 9}, "the model has 5 layers"),
        ({"device": "tpu"}, "device must be one of"),
        ({"dtype": "int4"}, "dtype must be one of"),
    ],
)
def test_bad_transformers_options_raise_clearly(models, speech, options, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        _encoder(models, "hubert", "audio", **options).encode([speech[0]])


def test_remote_code_is_refused_unless_the_feature_allows_it(models, tmp_path):
    import json
    import shutil

    folder = tmp_path / "custom"
    shutil.copytree(models["bert"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "configuration_evil.EvilConfig"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_evil.py").write_text("raise SystemExit('remote code ran')\n")
    spec = {"modality": "text", "backend": "transformers", "model": str(folder)}
    encoder = build_encoder("bert", spec)  # the custom code is ignored, not run
    assert encoder.encode(["开心"]).shape == (1, 32)


def test_pickled_weights_load_only_as_plain_tensors(models, tmp_path):
    import shutil

    folder = tmp_path / "pickled"
    shutil.copytree(models["bert"], folder)
    (folder / "model.safetensors").unlink()

    class NotATensor:
        def __reduce__(self):
            return (print, ("pickle code ran",))

    torch.save({"embeddings.word_embeddings.weight": NotATensor()}, folder / "pytorch_model.bin")
    spec = {"modality": "text", "backend": "transformers", "model": str(folder)}
    with pytest.raises(Exception, match="(?i)weights_only|unpickl|unsupported"):
        build_encoder("bert", spec)
