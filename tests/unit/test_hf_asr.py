"""merlib.hf_asr: the transformers ASR backend on tiny random models built here (a
Whisper-family model with a byte-level tokenizer, a wav2vec 2.0 CTC model with a
character vocabulary), as the transformers encoders are tested."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from merlib.hf_asr import HFTranscriber, resolve_compute_type  # noqa: E402
from merlib.transcripts import TranscriptParams, check_model, make_recogniser  # noqa: E402
from merlib.whisper import DecodeOptions  # noqa: E402

SR = 16000
SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|zh|>", "<|en|>", "<|transcribe|>"]
SPECIALS += ["<|translate|>", "<|nocaptions|>", "<|notimestamps|>", "<|startofprev|>"]
CHARS = ["<pad>", "<unk>", "|", "你", "好", "說", "話", "们"]


def _byte_vocab() -> dict[str, int]:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    return {ch: i for i, ch in enumerate(bytes_to_unicode().values())}


def _tiny_whisper(root: Path) -> Path:
    t = transformers
    vocab = _byte_vocab()
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = t.WhisperTokenizer(
        str(root / "vocab.json"), str(root / "merges.txt"), unk_token="<|endoftext|>"
    )
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    ids = {s: tokenizer.convert_tokens_to_ids(s) for s in SPECIALS}
    config = t.WhisperConfig(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_target_positions=64,
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|endoftext|>"],
        decoder_start_token_id=ids["<|startoftranscript|>"],
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    torch.manual_seed(0)
    model = t.WhisperForConditionalGeneration(config)
    gen = model.generation_config
    gen.lang_to_id = {"<|zh|>": ids["<|zh|>"], "<|en|>": ids["<|en|>"]}
    gen.task_to_id = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    gen.no_timestamps_token_id = ids["<|notimestamps|>"]
    gen.prev_sot_token_id = ids["<|startofprev|>"]
    gen.is_multilingual = True
    gen.max_length = 24
    gen._from_model_config = False  # else loading rebuilds it from config.json, dropping these
    folder = root / "whisper"
    model.save_pretrained(folder)
    processor = t.WhisperProcessor(t.WhisperFeatureExtractor(feature_size=80), tokenizer)
    processor.save_pretrained(folder)
    return folder


def _tiny_ctc(root: Path) -> Path:
    t = transformers
    (root / "ctc_vocab.json").write_text(json.dumps({c: i for i, c in enumerate(CHARS)}))
    tokenizer = t.Wav2Vec2CTCTokenizer(
        str(root / "ctc_vocab.json"), pad_token="<pad>", unk_token="<unk>", word_delimiter_token="|"
    )
    extractor = t.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=False)
    config = t.Wav2Vec2Config(
        vocab_size=len(CHARS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8),
        conv_kernel=(10, 3),
        conv_stride=(5, 2),
        num_conv_pos_embeddings=4,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    model = t.Wav2Vec2ForCTC(config)
    with torch.no_grad():  # make it say something: favour the characters over blank
        model.lm_head.bias[0] = -5.0
        model.lm_head.bias[5:7] = 3.0  # 說, 話 (traditional)
    folder = root / "ctc"
    model.save_pretrained(folder)
    t.Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf_asr")
    return {"whisper": _tiny_whisper(root), "ctc": _tiny_ctc(root)}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(3 * SR) / SR
    return (0.3 * np.sin(2 * np.pi * 200 * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32
    )


@pytest.mark.parametrize("fallback", ["seeded", "none"])
def test_tiny_whisper_decodes_the_same_text_twice(models, speech, fallback):
    opts = DecodeOptions(beam_size=2, temperature_fallback=fallback)
    asr = HFTranscriber(models["whisper"], "zh", threads=1, options=opts)
    first, second = asr.transcribe(speech), asr.transcribe(speech)
    assert first == second
    assert isinstance(first.text, str) and first.language == "zh"
    if first.text:
        assert first.avg_logprob is not None and first.avg_logprob <= 0.0


def test_tiny_whisper_is_given_language_task_beams_and_the_initial_prompt(models, speech):
    opts = DecodeOptions(beam_size=3, initial_prompt="你好。", temperature_fallback="none")
    asr = HFTranscriber(models["whisper"], "zh", options=opts)
    seen, generate = [], asr.model.generate
    asr.model.generate = lambda *a, **k: seen.append(k) or generate(*a, **k)
    out = asr.transcribe(speech)
    prompt = asr.processor.tokenizer.get_prompt_ids("你好。").tolist()
    (kwargs,) = seen
    assert kwargs["prompt_ids"].tolist() == prompt and len(prompt) > 1
    assert (kwargs["language"], kwargs["task"], kwargs["num_beams"]) == ("zh", "transcribe", 3)
    assert "temperature" not in kwargs  # no fallback: temperature 0 only
    assert out == asr.transcribe(speech)
    assert "你好。" not in out.text or out.text.count("你好。") < 2


def test_tiny_ctc_model_decodes_characters_in_simplified_script(models, speech):
    asr = HFTranscriber(models["ctc"], "zh", options=DecodeOptions())
    out = asr.transcribe(speech)
    assert out.text and set(out.text) <= set("你好说话们 ")  # 說話 converted
    assert "說" not in out.text and "話" not in out.text
    assert out.avg_logprob is not None and out.avg_logprob < 0.0
    raw = HFTranscriber(models["ctc"], "zh", options=DecodeOptions(simplified=False))
    assert set(raw.transcribe(speech).text) & set("說話")


def test_vad_gives_an_empty_text_with_a_reason_for_silence(models):
    asr = HFTranscriber(models["ctc"], "zh", options=DecodeOptions(vad=True))
    out = asr.transcribe(np.zeros(2 * SR, dtype=np.float32))
    assert out.text == "" and out.reason == "no speech found by VAD"


def test_make_recogniser_builds_the_transformers_backend_from_the_settings(models, speech):
    params = TranscriptParams(
        backend="transformers", model=str(models["ctc"]), vad=False, device="cpu"
    )
    recognise = make_recogniser(params, "unused-cache", threads=1)
    assert recognise(speech).text


def test_a_model_that_is_neither_whisper_nor_ctc_is_refused(tmp_path):
    t = transformers
    t.BertConfig(
        vocab_size=8, hidden_size=8, num_hidden_layers=1, num_attention_heads=2
    ).save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "a"]))
    t.BertTokenizer(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="neither Whisper-family nor a CTC model"):
        HFTranscriber(tmp_path, "zh")


def test_transformers_model_folder_is_checked_before_any_job(tmp_path, models):
    check_model(str(models["ctc"]), "transformers")
    check_model("openai/whisper-large-v3", "transformers")  # a hub id: not a path
    with pytest.raises(ValueError, match="no config.json"):
        check_model(str(tmp_path), "transformers")
    with pytest.raises(ValueError, match="holds no model.bin"):
        check_model(str(models["ctc"]), "faster-whisper")


@pytest.mark.parametrize(
    ("given", "device", "expected"),
    [("int8", "cpu", "auto"), ("float16", "cuda", "float16"), ("bfloat16", "cpu", "bfloat16")],
)
def test_compute_type_maps_to_a_torch_dtype(given, device, expected):
    assert resolve_compute_type(given, device) == expected


def test_a_ctranslate2_only_compute_type_is_refused_for_transformers():
    with pytest.raises(ValueError, match="int8_float16"):
        resolve_compute_type("int8_float16", "cpu")
