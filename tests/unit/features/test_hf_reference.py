"""protocol: reference inside the transformers encoders (docs/reference.md): DINOv2 pooling
and its 64 resampled frames, precision, and ChatGLM2 / Baichuan-style tokenizers (left
padding, prefix tokens) on tiny random models built here from a transformers config."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hf_models import save_tiny_model
from llm_tokenizers import TEXTS, BaichuanLikeTokenizer, ChatGLM2LikeTokenizer

from merlib import protocol
from merlib.features.base import build_encoder, checkpoint_mb
from merlib.features.hf_reference import dtype_name, is_causal_lm
from merlib.features.hf_text import added_tokens, content_mask, positions_from_mask
from merlib.features.hf_visual import crop_weights, token_sum

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = dict(hidden_size=32, num_hidden_layers=5, num_attention_heads=2, intermediate_size=64)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, str]:
    """A causal Llama (rotary positions), a GPT-2 (learned absolute positions: left padding
    without position ids would shift them), DINOv2 and CLIP, saved as a user's folders."""
    t = transformers
    root = tmp_path_factory.mktemp("hfref")
    llama = t.LlamaConfig(vocab_size=64, num_key_value_heads=2, pad_token_id=0, **SMALL)
    gpt2 = t.GPT2Config(vocab_size=64, n_embd=32, n_layer=5, n_head=2, n_positions=64)
    vision = dict(SMALL, num_hidden_layers=2, image_size=32, patch_size=8)
    processor = t.BitImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    clip = t.CLIPConfig(text_config=dict(SMALL), vision_config=vision)
    return {  # *ForCausalLM / *LMHeadModel: the LMs' config.json names a causal LM
        "llm": save_tiny_model(t.LlamaForCausalLM(llama), root / "llm"),
        "gpt2": save_tiny_model(t.GPT2LMHeadModel(gpt2), root / "gpt2"),
        "dinov2": save_tiny_model(
            t.Dinov2Model(t.Dinov2Config(**vision)), root / "dinov2", processor
        ),
        "clip": save_tiny_model(t.CLIPModel(clip), root / "clip", processor),
    }


def _encoder(path: str, modality: str, **options):
    spec = {"modality": modality, "backend": "transformers", "model": path}
    return build_encoder("f", {**spec, "options": {"device": "cpu", **options}}, threads=1)


@pytest.fixture
def crops() -> list[list[np.ndarray]]:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 40, 3), dtype=np.uint8) for _ in range(3)]
    return [[images[0], images[1], images[2]], [images[2]]]


# --- protocol passes itself to the transformers features --------------------------------------


def _features_config(**top):
    return {
        "features": {
            "dino": {"modality": "visual", "backend": "transformers", "model": "m"},
            "own": {
                "modality": "text",
                "backend": "transformers",
                "model": "m",
                "options": {"protocol": "merflow", "dtype": "bfloat16"},
            },
            "egemaps": {"modality": "audio", "backend": "opensmile", "model": "eGeMAPSv02"},
        },
        **top,
    }


def test_reference_protocol_reaches_each_transformers_feature_unless_it_names_its_own():
    features = protocol.resolve(_features_config(protocol="reference"))["features"]
    assert features["dino"]["options"] == {"protocol": "reference"}
    assert features["own"]["options"] == {"protocol": "merflow", "dtype": "bfloat16"}
    assert "options" not in features["egemaps"]


def test_merflow_protocol_leaves_the_feature_specs_exactly_as_given():
    config = _features_config()
    assert protocol.resolve(config)["features"] == config["features"]


# --- DINOv2: sum over all tokens before the final layernorm, 64 resampled crops ------------


def test_token_sum_adds_every_token_of_the_last_hidden_state():
    last = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, -6.0]]])
    assert token_sum((torch.zeros(1, 3, 2), last)).tolist() == [[9.0, 0.0]]


def test_64_uniformly_resampled_crops_weigh_each_crop_by_how_often_it_is_drawn():
    # 3 crops: indices floor((k + 0.5) * 3 / 64), k = 0..63 -> 21 x 0, 22 x 1, 21 x 2
    np.testing.assert_allclose(crop_weights(3, 64), [21 / 64, 22 / 64, 21 / 64])
    np.testing.assert_allclose(crop_weights(4, 0), [0.25] * 4)  # merflow: every crop once
    assert crop_weights(0, 64).shape == (0,)  # a clip without a face: NaN, a reject
    many = crop_weights(100, 64)  # more crops than draws: 64 distinct crops, 1/64 each
    assert np.flatnonzero(many)[:4].tolist() == [0, 2, 3, 5]
    assert (many > 0).sum() == 64 and np.isclose(many.sum(), 1.0)


def test_reference_dinov2_sums_tokens_before_the_final_layernorm_over_64_frames(folders, crops):
    ref = _encoder(folders["dinov2"], "visual", protocol="reference")
    assert (ref.pooling, ref.image_frames) == ("token_sum", 64)
    pixels = ref.processor(images=crops[0], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = ref.model(pixel_values=pixels, output_hidden_states=True)
    before_norm = out.hidden_states[-1]
    # hidden_states[-1] is the encoder's output, before the layernorm that gives last_hidden_state
    torch.testing.assert_close(ref.model.layernorm(before_norm), out.last_hidden_state)
    per_crop = before_norm.sum(1).numpy()
    expected = (21 * per_crop[0] + 22 * per_crop[1] + 21 * per_crop[2]) / 64
    got = ref.encode(crops)
    np.testing.assert_allclose(got[0], expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got[1], per_crop[2], rtol=1e-5, atol=1e-4)  # one crop: 64 x it
    merflow = _encoder(folders["dinov2"], "visual")
    assert (merflow.pooling, merflow.image_frames) == ("pooler", 0)
    np.testing.assert_allclose(
        merflow.encode(crops)[0], out.pooler_output.mean(0).numpy(), rtol=1e-5, atol=1e-5
    )


def test_only_the_resampled_crops_are_encoded_and_a_faceless_clip_stays_nan(folders, crops):
    encoder = _encoder(folders["dinov2"], "visual", image_frames=2)
    seen = []
    encode_crops = encoder.frame_embeddings
    encoder.frame_embeddings = lambda batch: seen.append(len(batch)) or encode_crops(batch)
    clip = crops[0] + crops[0]  # 6 crops, 2 drawn: indices floor(1.5) = 1, floor(4.5) = 4
    out = encoder.encode([clip, []])
    assert seen == [2] and np.isnan(out[1]).all()
    np.testing.assert_allclose(out[0], encode_crops([clip[1], clip[4]]).mean(0), atol=1e-5)


def test_an_explicit_pooling_or_frame_count_wins_over_the_protocol(folders):
    dino = _encoder(folders["dinov2"], "visual", protocol="reference", pooling="pooler")
    assert (dino.pooling, dino.image_frames) == ("pooler", 64)
    dino = _encoder(folders["dinov2"], "visual", pooling="token_sum", image_frames=8)
    assert (dino.pooling, dino.image_frames) == ("token_sum", 8)


def test_clip_keeps_its_projection_under_reference_and_refuses_token_sum(folders):
    clip = _encoder(folders["clip"], "visual", protocol="reference")
    assert (clip.pooling, clip.image_frames) == ("pooler", 0)
    with pytest.raises(ValueError, match="CLIP"):
        _encoder(folders["clip"], "visual", pooling="token_sum")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pooling": "cls"}, "pooling must be one of"),
        ({"image_frames": -1}, "image_frames must be an integer >= 0"),
        ({"protocol": "mertools"}, "protocol must be one of"),
    ],
)
def test_bad_reference_options_raise_clearly(folders, options, message):
    with pytest.raises(ValueError, match=message):
        _encoder(folders["dinov2"], "visual", **options)


# --- precision: fp32 encoders, fp16 LLMs (on a GPU) ----------------------------------------

BERT = SimpleNamespace(architectures=["BertModel"], auto_map=None)
BAICHUAN = SimpleNamespace(architectures=["BaichuanForCausalLM"])
CHATGLM2 = SimpleNamespace(
    architectures=["ChatGLMModel"],
    auto_map={
        "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
        "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
    },
)


def _opts(**options):
    from merlib.features.hf_common import TransformersOptions

    return TransformersOptions(options)


@pytest.mark.parametrize(("config", "causal"), [(BERT, False), (BAICHUAN, True), (CHATGLM2, True)])
def test_a_causal_lm_is_known_by_its_architecture_or_remote_code_map(config, causal):
    assert is_causal_lm(config) is causal


@pytest.mark.parametrize(
    ("options", "config", "device", "dtype"),
    [
        ({"protocol": "reference"}, BERT, "cuda", "float32"),
        ({"protocol": "reference"}, BAICHUAN, "cuda", "float16"),
        ({"protocol": "reference"}, CHATGLM2, "cuda", "float16"),
        ({"protocol": "reference"}, CHATGLM2, "cpu", "float32"),  # MERTools halves on a GPU only
        ({}, BAICHUAN, "cuda", "auto"),  # merflow: bf16 where the GPU has it
        ({"protocol": "reference", "dtype": "bfloat16"}, BERT, "cuda", "bfloat16"),
    ],
)
def test_reference_precision_is_fp32_for_encoders_and_fp16_for_llms(options, config, device, dtype):
    assert dtype_name(_opts(**options), config, device) == dtype


def test_a_reference_encoder_on_the_cpu_runs_in_fp32(folders):
    encoder = _encoder(folders["dinov2"], "visual", protocol="reference", dtype="auto")
    assert encoder.torch_dtype == torch.float32  # an explicit auto: merflow's rule, the CPU's fp32


def test_a_reference_encoder_without_a_dtype_is_sized_as_fp32_on_the_gpu():
    spec = {"modality": "visual", "backend": "transformers", "model": "facebook/dinov2-large"}
    merflow = checkpoint_mb(spec)
    assert checkpoint_mb({**spec, "options": {"protocol": "reference"}}) == 2 * merflow
    given = {"protocol": "reference", "dtype": "float16"}  # the paper config's LLMs
    assert checkpoint_mb({**spec, "options": given}) == merflow


# --- ChatGLM2 / Baichuan-style tokenizers: left padding, prefix tokens masked ---------------


def test_positions_count_from_the_first_real_token_and_added_tokens_are_masked():
    attention = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)
    assert positions_from_mask(attention).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]]
    assert content_mask(attention, 2, 0).int().tolist() == [[0, 0, 0, 0, 1], [0, 0, 1, 1, 1]]
    assert content_mask(attention, 1, 1).int().tolist() == [[0, 0, 0, 1, 0], [0, 1, 1, 1, 0]]


@pytest.mark.parametrize("model", ["llm", "gpt2"])  # rotary (relative) / absolute positions
@pytest.mark.parametrize(
    ("cls", "prefix"), [(ChatGLM2LikeTokenizer, 2), (BaichuanLikeTokenizer, 1)]
)
def test_llm_tokenizer_quirks_batched_equals_alone_without_the_prefix(
    folders, monkeypatch, cls, prefix, model
):
    tokenizer = cls()
    assert added_tokens(tokenizer) == (prefix, 0)
    if cls is ChatGLM2LikeTokenizer:  # the quirk is real: right padding asserts
        tokenizer.padding_side = "right"
        with pytest.raises(AssertionError):
            tokenizer(TEXTS[:2], padding=True)
        tokenizer.padding_side = "left"
    monkeypatch.setattr(
        transformers.AutoTokenizer, "from_pretrained", staticmethod(lambda *a, **k: tokenizer)
    )
    encoder = _encoder(folders[model], "text", batch_size=4)
    assert encoder.tokenizer.padding_side == "left" and encoder.tokenizer.pad_token is not None
    batched = encoder.encode(TEXTS)  # lengths 6, 9, 5, 2: left padded in one batch
    solo = np.concatenate([encoder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(batched, solo, rtol=1e-4, atol=1e-5)
    ids = tokenizer(TEXTS[0], return_tensors="pt")
    assert ids["input_ids"].shape[1] == len(TEXTS[0]) + prefix
    with torch.no_grad():
        hidden = encoder.model(**ids, output_hidden_states=True).hidden_states
    expected = torch.stack(hidden[-4:]).sum(0)[0, prefix:].mean(0).numpy()  # prefix left out
    np.testing.assert_allclose(solo[0], expected, rtol=1e-4, atol=1e-5)
