"""How a transformers feature loads its weights: straight to the device, in the target dtype.

Tiny models are built from a ``transformers`` config and saved here (no model hub).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from merlib.features.base import build_encoder

transformers = pytest.importorskip("transformers")

SCRIPTS = Path(__file__).resolve().parents[3] / "workflow_scripts"
TEXTS = ["我今天很开心", "你好"]


def _save_bert(folder: Path, dtype: torch.dtype, hidden: int, layers: int, vocab: int) -> str:
    t = transformers
    chars = sorted(set("".join(TEXTS)))
    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n"
    )
    config = t.BertConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=4 * hidden,
    )
    torch.manual_seed(0)
    t.BertModel(config).to(dtype).save_pretrained(folder)
    t.BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    return str(folder)


def _spec(model: str, **options) -> dict:
    return {
        "modality": "text",
        "backend": "transformers",
        "model": model,
        "options": {"device": "cpu", **options},
    }


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> str:
    return _save_bert(tmp_path_factory.mktemp("load") / "bert", torch.float32, 32, 5, 64)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
def test_weights_load_in_the_target_dtype_on_the_device(tiny_bert, dtype):
    encoder = build_encoder("bert", _spec(tiny_bert, dtype=dtype), threads=1)
    dtypes = {p.dtype for p in encoder.model.parameters()}
    devices = {p.device.type for p in encoder.model.parameters()}
    assert dtypes == {getattr(torch, dtype)}
    assert devices == {"cpu"}
    assert not encoder.model.training


def test_loader_asks_transformers_for_device_and_dtype_at_load_time(tiny_bert, monkeypatch):
    """No load-then-copy: from_pretrained gets device_map and dtype; the model is not moved."""
    calls = []
    real = transformers.AutoModel.from_pretrained

    def spy(*args, **kwargs):
        calls.append(kwargs)
        model = real(*args, **kwargs)
        monkeypatch.setattr(model, "to", lambda *a, **k: pytest.fail("model moved after load"))
        return model

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", spy)
    build_encoder("bert", _spec(tiny_bert, dtype="bfloat16"), threads=1)
    assert len(calls) == 1
    assert calls[0]["device_map"] == "cpu"
    assert calls[0]["dtype"] == torch.bfloat16


# Anonymous resident memory (RssAnon: memory the process owns, not the checkpoint's
# page cache, which a memory-mapped safetensors file may show as resident file pages) that
# one load adds, in a fresh process, after a warm-up load of a tiny model has made the
# imports transformers makes on first use.
_ANON = """
import json, sys
sys.path.insert(0, sys.argv[1])
from merlib.features.base import build_encoder
def anon_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon:"))
def load(model):
    spec = {"modality": "text", "backend": "transformers", "model": model,
            "options": {"device": "cpu", "dtype": sys.argv[3]}}
    return build_encoder("bert", spec, threads=1)
warm = load(sys.argv[4])
before = anon_kb()
encoder = load(sys.argv[2])
print(json.dumps({"before_kb": before, "after_kb": anon_kb()}))
"""


def _load_anon_mb(model: str, dtype: str, warm_up: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _ANON, str(SCRIPTS), model, dtype, warm_up],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return (figures["after_kb"] - figures["before_kb"]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_bf16_checkpoint_loads_without_an_fp32_copy_in_host_memory(tiny_bert, tmp_path):
    """A ~45 MB bf16 checkpoint loaded in bf16 leaves far less than its own size of
    host memory owned by the process; loaded in fp32 (the control), the 90 MB copy."""
    model = _save_bert(tmp_path / "bf16", torch.bfloat16, 256, 4, 80000)
    weights_mb = Path(model, "model.safetensors").stat().st_size / 2**20
    bf16 = _load_anon_mb(model, "bfloat16", tiny_bert)
    fp32 = _load_anon_mb(model, "float32", tiny_bert)
    assert fp32 > 1.7 * weights_mb, (bf16, fp32, weights_mb)  # the control sees the copy
    assert bf16 < 0.5 * weights_mb, (bf16, fp32, weights_mb)
