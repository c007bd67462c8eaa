"""Face-crop preprocessing as tensor operations (merlib.features.image_tensors) against the
image processors it replaces on a GPU: CLIP's, DINOv2's and ViT's settings, real face
images, crops of several sizes; and its effect on a tiny random model's embedding.

Measured tolerance (2026-12-04, this CPU): at most 1 uint8 level on at most about 6e-5 of
the pixel values (CLIP; DINOv2 6e-6, ViT 2e-5); on tiny random CLIP / DINOv2 embeddings a
relative L2 difference of at most 8e-6 / 2e-7, where running the model in bf16 moves
them by 5e-3."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from merlib.features.hf_common import TransformersOptions
from merlib.features.hf_visual import ImageEncoder, tensor_preprocessing
from merlib.features.image_tensors import TensorImagePreprocess

t = pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data"
IMAGENET = dict(image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])

pytestmark = [
    pytest.mark.skipif(not DATA.is_dir(), reason=f"real test media not found at {DATA}"),
    pytest.mark.usefixtures("one_torch_thread"),
]


def _processors():
    return {
        # ViT-L/14's (openai/clip-vit-large-patch14): shortest edge 224, crop 224, bicubic
        "clip": t.CLIPImageProcessorPil(),
        # DINOv2's (facebook/dinov2-*): shortest edge 256, crop 224, bicubic, ImageNet
        "dinov2": t.BitImageProcessorPil(
            size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224}, **IMAGENET
        ),
        # ViT's: a fixed 224 x 224, bilinear, no crop
        "vit": t.ViTImageProcessorPil(),
    }


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    import cv2

    out = []
    for name in ("obama", "biden", "obama2", "two_people"):
        image = cv2.cvtColor(cv2.imread(str(DATA / "images" / f"{name}.jpg")), cv2.COLOR_BGR2RGB)
        h, w = image.shape[:2]
        s = min(h, w)
        square = image[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
        for size in ((112, 112), (96, 96), (300, 300), (150, 97)):  # media's default is 112
            out.append(cv2.resize(square if size[0] == size[1] else image, size, cv2.INTER_AREA))
    return out


def _reference(processor, crops):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = [processor(images=[c], return_tensors="pt")["pixel_values"] for c in crops]
    return torch.cat(one)


@pytest.mark.parametrize(("kind", "fraction"), [("clip", 2e-4), ("dinov2", 5e-5), ("vit", 1e-4)])
def test_tensor_preprocessing_is_within_one_level_of_the_image_processor(crops, kind, fraction):
    processor = _processors()[kind]
    tensor = TensorImagePreprocess.from_processor(processor)
    got = tensor(crops, "cpu", torch.float32)
    ref = _reference(processor, crops)
    assert got.shape == ref.shape == (len(crops), 3, 224, 224)
    levels = ((got - ref) * torch.tensor(tensor.std).view(1, 3, 1, 1) * 255).abs()
    assert float(levels.max()) < 1.01  # one uint8 level at most
    assert float((levels > 0.5).float().mean()) < fraction


def test_crop_larger_than_the_resized_image_is_zero_padded_as_the_processor(crops):
    processor = t.CLIPImageProcessorPil(
        size={"shortest_edge": 64}, crop_size={"height": 80, "width": 70}
    )
    tensor = TensorImagePreprocess.from_processor(processor)
    got = tensor(crops[:4], "cpu", torch.float32)
    ref = _reference(processor, crops[:4])
    assert got.shape == ref.shape == (4, 3, 80, 70)
    levels = ((got - ref) * torch.tensor(tensor.std).view(1, 3, 1, 1) * 255).abs()
    assert float(levels.max()) < 1.01


def test_batch_of_mixed_sizes_keeps_each_crops_place(crops):
    tensor = TensorImagePreprocess.from_processor(_processors()["clip"])
    together = tensor(crops, "cpu", torch.float32)
    for i in (0, 3, 6, len(crops) - 1):
        assert torch.equal(together[i], tensor([crops[i]], "cpu", torch.float32)[0])
    assert tensor(crops[:2], "cpu", torch.bfloat16).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="face crop 0: expected"):
        tensor([crops[0][:, :, 0]], "cpu", torch.float32)


def test_processor_settings_without_a_tensor_form_keep_the_processor():
    both = t.CLIPImageProcessorPil(size={"shortest_edge": 224, "longest_edge": 300})
    assert TensorImagePreprocess.from_processor(both) is None
    nearest = t.ViTImageProcessorPil(resample=0)
    assert TensorImagePreprocess.from_processor(nearest) is None


def test_auto_preprocesses_as_tensors_on_a_gpu_except_under_the_reference_protocol():
    merflow = TransformersOptions({})
    reference = TransformersOptions({"protocol": "reference"})
    assert tensor_preprocessing("auto", "cuda", merflow)
    assert not tensor_preprocessing("auto", "cuda", reference)
    assert not tensor_preprocessing("auto", "cpu", merflow)  # CPU features stay as they were
    assert tensor_preprocessing("tensor", "cpu", merflow)
    assert not tensor_preprocessing("processor", "cuda", merflow)


@pytest.mark.parametrize(("kind", "bound"), [("clip", 1e-4), ("dinov2", 1e-5)])
def test_tiny_models_embed_tensor_preprocessed_crops_as_processor_crops(
    crops, tmp_path, kind, bound
):
    torch.manual_seed(0)
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=64, image_size=224, patch_size=16)  # fmt: skip
    if kind == "clip":
        text = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64)  # fmt: skip
        model = t.CLIPModel(t.CLIPConfig(text_config=text, vision_config=small, projection_dim=16))
    else:
        model = t.Dinov2Model(t.Dinov2Config(**small))
    model.save_pretrained(tmp_path)
    _processors()[kind].save_pretrained(tmp_path)
    clips = [crops[0:2], crops[4:5], crops[8:12]]
    opts = TransformersOptions({"device": "cpu", "batch_size": 2})
    pil = ImageEncoder(str(tmp_path), opts, preprocess="processor")
    tensor = ImageEncoder(str(tmp_path), opts, preprocess="tensor")
    assert pil.tensor_preprocess is None and tensor.tensor_preprocess is not None
    a, b = pil.encode(clips), tensor.encode(clips)
    relative = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
    assert relative.max() < bound
    assert not np.array_equal(a, b)  # the two paths really are different code
