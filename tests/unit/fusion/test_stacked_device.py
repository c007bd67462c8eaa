"""Stacked training's device handling (fusion.device): chosen device, buffer moves, and
the CPU results through the device-handling code path. No test needs a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from merlib.fusion import stacked
from merlib.fusion.model import StackedFusion
from merlib.labels import LABELS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_auto_is_cuda_only_when_torch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert stacked.fusion_device("auto") == torch.device("cpu")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        stacked.fusion_device("cuda")
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        stacked.fusion_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert stacked.fusion_device("auto") == torch.device("cuda")
    assert stacked.fusion_device("cpu") == torch.device("cpu")


def test_moving_the_stack_keeps_its_leaves_views_of_the_buffer():
    model = StackedFusion([5, 3], 8, "raw", seeds=[1, 2])
    before = model.flat
    assert model.to(torch.device("cpu")) is model and model.flat is before
    model.to("meta")  # a device without data: only placement and shapes are checked
    assert model.flat.device.type == "meta"
    assert all(t.device.type == "meta" and t.requires_grad for t in model.leaves)
    assert all(t._base is model.flat for t in model.leaves)  # views, not copies


def test_cpu_results_are_identical_whichever_way_the_device_is_named():
    rng = np.random.default_rng(0)
    n = 60
    y = rng.permutation(np.arange(n) % len(LABELS))
    arrays = [rng.normal(size=(n, d)).astype(np.float32) for d in (7, 4)]
    mask = np.ones((n, 2), dtype=bool)
    mask[::5, 1] = False
    rows = np.arange(n)
    specs = [
        stacked.ModelSpec(rows[:40], rows[40:], 0.3, 1e-3, 1),
        stacked.ModelSpec(rows[20:], rows[:20], 0.5, 3e-3, 2),
    ]
    runs = [
        stacked.train_stacked(
            arrays,
            mask,
            y,
            specs,
            hidden_dim=8,
            attention="raw",
            epochs=4,
            batch_size=8,
            weight_decay=1e-5,
            **device,
        )  # fmt: skip
        for device in ({}, {"device": "cpu"}, {"device": torch.device("cpu")})
    ]
    for other in runs[1:]:
        for a, b in zip(runs[0], other, strict=True):
            assert a.best_epoch == b.best_epoch and a.waf == b.waf
            assert np.array_equal(a.val_logits, b.val_logits)
            assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
