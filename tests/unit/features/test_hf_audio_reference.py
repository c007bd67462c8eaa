"""The transformers audio encoders' two reference options (docs/reference.md), pinned on
tiny models built here from a ``transformers`` config (no model hub) and on hand-computed
cases: ``speech_chunking`` (masked | padded) and ``whisper_states`` (encoder | decoder).

The speech models have a single convolution (kernel 10, stride 5), so a chunk of L
samples has ``(L - 10) // 5 + 1`` frames: 20 samples -> 3 frames, 12 -> 1, 160 -> 31,
80 -> 15.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from merlib import protocol
from merlib.features.audio_chunks import padded_chunks
from merlib.features.base import build_encoder
from merlib.features.hf_common import TransformersOptions
from merlib.features.hf_reference import speech_chunking, whisper_states

transformers = pytest.importorskip("transformers")

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
SR = 16000
START = 5  # the tiny Whisper's decoder_start_token_id

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# One convolution (kernel 10, stride 5) under a 4-layer, 16-wide transformer.
SPEECH = {
    "hidden_size": 16,
    "num_hidden_layers": 4,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "num_feat_extract_layers": 1,
    "conv_dim": (8,),
    "conv_kernel": (10,),
    "conv_stride": (5,),
    "num_conv_pos_embeddings": 4,
    "num_conv_pos_embedding_groups": 2,
}


# Two encoder and two decoder layers, 16 wide; 30 s windows (1500 encoder positions).
WHISPER = {"d_model": 16, "vocab_size": 16, "max_target_positions": 8}
WHISPER |= {f"{part}_layers": 2 for part in ("encoder", "decoder")}
WHISPER |= {f"{part}_attention_heads": 2 for part in ("encoder", "decoder")}
WHISPER |= {f"{part}_ffn_dim": 32 for part in ("encoder", "decoder")}
WHISPER |= {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
WHISPER |= {"decoder_start_token_id": START}


def _speech_config(cls, norm: str):
    return cls(**SPEECH, feat_extract_norm=norm, do_stable_layer_norm=norm == "layer")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    t = transformers
    root = tmp_path_factory.mktemp("hf_audio")
    torch.manual_seed(0)
    extractor = t.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True)
    out = {}
    for kind, model in (
        ("hubert", t.HubertModel(_speech_config(t.HubertConfig, "layer"))),
        ("wav2vec2", t.Wav2Vec2Model(_speech_config(t.Wav2Vec2Config, "group"))),
        ("whisper", t.WhisperModel(t.WhisperConfig(**WHISPER))),
    ):
        model.save_pretrained(root / kind)
        processor = t.WhisperFeatureExtractor(feature_size=80) if kind == "whisper" else extractor
        processor.save_pretrained(root / kind)
        out[kind] = str(root / kind)
    return out


def _encoder(models, kind: str, **options):
    spec = {"modality": "audio", "backend": "transformers", "model": models[kind]}
    return build_encoder(kind, {**spec, "options": {"device": "cpu", **options}}, threads=1)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    import soundfile as sf

    path = DATA / "audio" / "speech_60s_silero_test.wav"
    if not path.is_file():
        pytest.skip(f"real test media not found at {path} (see shared/data/README.md)")
    signal, rate = sf.read(path, dtype="float32")
    assert rate == SR
    return signal


def _inputs_seen(encoder) -> list[torch.Tensor]:
    """Every input_values batch the speech model is called on, recorded by a hook."""
    seen: list[torch.Tensor] = []
    encoder.model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone()))
    return seen


# --- speech_chunking: padded (MERTools) vs masked (merflow) ----------------------------------


def test_padded_chunks_zero_pad_a_long_signal_to_whole_chunks_and_leave_a_short_one():
    rows = padded_chunks(np.arange(1, 11, dtype=np.float32), 4)
    assert [r.tolist() for r in rows] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 0, 0]]
    assert [r.tolist() for r in padded_chunks(np.arange(1, 4, dtype=np.float32), 4)] == [[1, 2, 3]]
    assert [r.tolist() for r in padded_chunks(np.arange(1, 5, dtype=np.float32), 4)] == [
        [1, 2, 3, 4]
    ]


def test_padded_normalises_the_whole_clip_once_then_pads_with_zeros(models):
    # 1..32: mean 16.5, variance (32^2 - 1) / 12 = 85.25, so x -> (x - 16.5) / 9.2331;
    # chunks of 20 samples: 20 + 12 samples of audio and 8 zeros.
    encoder = _encoder(models, "hubert", speech_chunking="padded", chunk_seconds=20 / SR)
    seen = _inputs_seen(encoder)
    encoder.encode([np.arange(1, 33, dtype=np.float32)])
    (values,) = seen
    assert values.shape == (2, 20)
    np.testing.assert_allclose(values[0, :3], [-1.6787441, -1.5704381, -1.4621320], atol=1e-5)
    np.testing.assert_allclose(values[1, :3], [0.4873773, 0.5956834, 0.7039895], atol=1e-5)
    np.testing.assert_allclose(values[1, 11], 1.6787441, atol=1e-5)
    assert values[1, 12:].abs().max().item() == 0.0


def test_masked_normalises_each_chunk_on_its_own(models):
    # chunk 1..20: mean 10.5, variance 33.25; chunk 21..32: mean 26.5, variance 11.9167.
    encoder = _encoder(models, "hubert", chunk_seconds=20 / SR)
    seen = _inputs_seen(encoder)
    encoder.encode([np.arange(1, 33, dtype=np.float32)])
    (values,) = seen  # one batch, the 12-sample chunk padded and masked
    np.testing.assert_allclose(values[0, :3], [-1.6475089, -1.4740870, -1.3006650], atol=1e-5)
    np.testing.assert_allclose(values[1, :3], [-1.5932550, -1.3035723, -1.0138896], atol=1e-5)


@pytest.mark.parametrize("kind", ["hubert", "wav2vec2"])
def test_padded_mean_includes_every_frame_of_the_zero_padding(models, speech, kind):
    # 400 samples in 160-sample chunks: padded to 480, 3 x 31 = 93 frames in the mean;
    # masked: 160 + 160 + 80 samples, 31 + 31 + 15 = 77 frames (16 fewer).
    clip = speech[SR : SR + 400]
    encoder = _encoder(models, kind, speech_chunking="padded", chunk_seconds=160 / SR)
    got = encoder.encode([clip])[0]
    x = clip.astype(np.float64)
    whole = ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)
    rows = np.zeros((3, 160), np.float32)
    rows.reshape(-1)[:400] = whole
    with torch.no_grad():
        hidden = encoder.model(torch.from_numpy(rows), output_hidden_states=True).hidden_states
    states = torch.stack(hidden[-4:]).sum(0)
    assert states.shape[:2] == (3, 31)
    expected = states.reshape(93, -1).double().sum(0) / 93
    np.testing.assert_allclose(got, expected.float().numpy(), atol=1e-5)
    masked = _encoder(models, kind, chunk_seconds=160 / SR).encode([clip])[0]
    assert np.abs(masked - got).max() > 1e-3


def test_padded_and_masked_agree_on_a_clip_within_one_chunk(models, speech):
    # One chunk: no padding, and the whole clip's statistics are the chunk's.
    clip = speech[SR : SR + 150]
    padded = _encoder(models, "hubert", speech_chunking="padded", chunk_seconds=160 / SR)
    masked = _encoder(models, "hubert", chunk_seconds=160 / SR)
    np.testing.assert_allclose(padded.encode([clip]), masked.encode([clip]), atol=1e-5)


@pytest.mark.parametrize("kind", ["hubert", "wav2vec2"])
def test_padded_embedding_does_not_depend_on_batch_neighbours(models, speech, kind):
    encoder = _encoder(models, kind, speech_chunking="padded", chunk_seconds=160 / SR)
    clips = [speech[:400], speech[1000:1150], speech[2000:2700], speech[3000:3005]]
    solo = np.concatenate([encoder.encode([c]) for c in clips])
    np.testing.assert_allclose(encoder.encode(clips), solo, atol=1e-5)
    # 5 samples: shorter than one frame, NaN (a reject), as with masked
    assert np.isnan(solo[3]).all() and np.isfinite(solo[:3]).all()


# --- whisper_states: decoder (MERTools) vs encoder (merflow) ---------------------------------


def test_whisper_decoder_averages_the_states_of_two_decoder_start_tokens(models, speech):
    encoder = _encoder(models, "whisper", whisper_states="decoder")
    assert encoder.decoder_input_ids(2).tolist() == [[5, 5], [5, 5]]
    clip = speech[: 3 * SR]
    got = encoder.encode([clip])[0]
    feats = encoder.extractor(clip, sampling_rate=SR, return_tensors="pt")["input_features"]
    with torch.no_grad():
        two = encoder.model(feats, decoder_input_ids=torch.tensor([[5, 5]])).last_hidden_state
        one = encoder.model(feats, decoder_input_ids=torch.tensor([[5]])).last_hidden_state
    assert two.shape == (1, 2, 16)
    np.testing.assert_allclose(got, two[0].mean(0).numpy(), atol=1e-5)
    assert np.abs(got - one[0, 0].numpy()).max() > 1e-4  # both positions count
    states = _encoder(models, "whisper", layers=2).encode([clip])[0]
    assert np.abs(got - states).max() > 1e-3


def test_whisper_decoder_reads_only_the_first_30_seconds(models, speech):
    decoder = _encoder(models, "whisper", whisper_states="decoder", batch_size=2)
    out = decoder.encode([speech[: 35 * SR], speech[: 30 * SR], np.zeros(0, np.float32)])
    np.testing.assert_allclose(out[0], out[1], atol=1e-5)
    assert np.isnan(out[2]).all()  # no sample: a reject, not a vector of padding
    encoder = _encoder(models, "whisper", layers=2)
    states = encoder.encode([speech[: 35 * SR], speech[: 30 * SR]])
    assert np.abs(states[0] - states[1]).max() > 1e-4  # merflow: the 5 s past 30 s count


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"speech_chunking": "zeros"}, "speech_chunking must be one of"),
        ({"whisper_states": "both"}, "whisper_states must be one of"),
    ],
)
def test_bad_audio_options_raise_naming_the_choices(models, options, message):
    with pytest.raises(ValueError, match=message):
        _encoder(models, "hubert", **options)


# --- protocol: reference, resolved per feature for the model's type (hf_reference) ---------

FEATURES = {
    "hubert": {"modality": "audio", "backend": "transformers", "model": "h"},
    "whisper": {
        "modality": "audio",
        "backend": "transformers",
        "model": "w",
        "options": {"whisper_states": "encoder"},
    },
    "egemaps": {"modality": "audio", "backend": "opensmile", "model": "eGeMAPSv02"},
}


def _opts(**options):
    return TransformersOptions(options)


@pytest.mark.parametrize(
    ("options", "model_type", "chunking", "states"),
    [
        ({}, "hubert", "masked", "encoder"),  # merflow
        ({}, "whisper", "masked", "encoder"),
        ({"protocol": "reference"}, "hubert", "padded", "encoder"),
        ({"protocol": "reference"}, "wav2vec2", "padded", "encoder"),
        ({"protocol": "reference"}, "wavlm", "padded", "encoder"),
        ({"protocol": "reference"}, "data2vec-audio", "padded", "encoder"),
        ({"protocol": "reference"}, "whisper", "masked", "decoder"),
        # a feature's own option wins, in either direction
        ({"protocol": "reference", "speech_chunking": "masked"}, "hubert", "masked", "encoder"),
        ({"protocol": "reference", "whisper_states": "encoder"}, "whisper", "masked", "encoder"),
        ({"speech_chunking": "padded"}, "hubert", "padded", "encoder"),
        ({"whisper_states": "decoder"}, "whisper", "masked", "decoder"),
    ],
)
def test_reference_resolves_padded_for_speech_models_and_decoder_for_whisper_only(
    options, model_type, chunking, states
):
    opts = _opts(**options)
    assert speech_chunking(opts, model_type) == chunking
    assert whisper_states(opts, model_type) == states


def test_reference_mode_reaches_the_built_encoders(models):
    hubert = _encoder(models, "hubert", protocol="reference")
    assert hubert.speech_chunking == "padded"
    whisper = _encoder(models, "whisper", protocol="reference")
    assert whisper.whisper_states == "decoder" and whisper.model is not None
    merflow = _encoder(models, "whisper")
    assert merflow.whisper_states == "encoder" and merflow.model is None
    explicit = _encoder(models, "hubert", protocol="reference", speech_chunking="masked")
    assert explicit.speech_chunking == "masked"


def test_reference_gives_audio_features_only_the_protocol_and_merflow_leaves_specs_alone():
    reference = protocol.resolve({"protocol": "reference", "features": FEATURES})["features"]
    assert reference["hubert"]["options"] == {"protocol": "reference"}
    assert reference["whisper"]["options"] == {"protocol": "reference", "whisper_states": "encoder"}
    assert reference["egemaps"] == FEATURES["egemaps"]
    # no config section sets the audio options any more: a HuBERT spec does not carry
    # (so does not rerun on) Whisper's option, nor the other way round
    assert "audio_encoders" not in protocol.resolve({"protocol": "reference"})
    assert protocol.resolve({"features": FEATURES})["features"] == FEATURES
