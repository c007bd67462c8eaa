"""Stacked training: K folds (or search combinations) as one batched model."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from merlib import metrics
from merlib.fusion import dataset, stacked, training
from merlib.fusion.model import AttentionFusion, StackedFusion, eval_logits, softmax
from merlib.fusion.params import FusionParams
from merlib.fusion.standardise import standardise
from merlib.labels import LABELS

REPO = Path(__file__).resolve().parents[3]


# tiny models: extra intra-op threads only stall on a busy machine (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=90, dims=(9, 4, 16), seed=0, separation=0.7):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(LABELS))
    arrays = []
    for d in dims:
        centres = rng.normal(size=(len(LABELS), d))
        arrays.append((separation * centres[y] + rng.normal(size=(n, d))).astype(np.float32))
    mask = np.ones((n, len(dims)), dtype=bool)
    mask[::7, 1] = False
    return arrays, mask, y


@pytest.mark.parametrize("attention", ["raw", "softmax"])
def test_stacked_forward_equals_attention_fusion_with_the_same_weights(attention):
    dims = [11, 3, 20]
    model = StackedFusion(dims, 16, attention, seeds=[5, 6, 7])
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(3, 9, d, generator=g) for d in dims]
    mask = torch.rand(3, 9, 3, generator=g) > 0.3
    out = model.logits(xs, mask)
    for m, state in enumerate(model.state_dicts()):
        single = AttentionFusion(dims, 16, 0.3, attention).eval()
        single.load_state_dict(state)
        expected = single([x[m] for x in xs], mask[m])
        torch.testing.assert_close(out[m], expected, rtol=1e-5, atol=1e-6)


def test_stacked_models_start_from_attention_fusion_init_of_their_seed():
    model = StackedFusion([4, 2], 8, "raw", seeds=[3, 9])
    torch.manual_seed(9)
    reference = AttentionFusion([4, 2], 8, 0.0, "raw").state_dict()
    for key, value in model.state_dicts()[1].items():
        assert torch.equal(value, reference[key]), key


def _spec(train, val, seed, dropout=0.3, lr=1e-3):
    return stacked.ModelSpec(np.asarray(train), np.asarray(val), dropout, lr, seed)


def _train(arrays, mask, y, specs, epochs=6):
    return stacked.train_stacked(
        arrays, mask, y, specs, hidden_dim=16, attention="raw", epochs=epochs,
        batch_size=8, weight_decay=1e-5,
    )  # fmt: skip


def test_a_model_trains_the_same_alone_or_in_a_stack_of_unequal_sizes():
    # Model 0 has fewer training rows: in the stack its last batches are partial or
    # empty (no update); its own generator makes it independent of its neighbours.
    arrays, mask, y = _data()
    rows = np.arange(len(y))
    short = _spec(rows[:50], rows[70:], seed=1, dropout=0.2, lr=3e-3)
    other = _spec(rows[10:70], rows[70:], seed=2, dropout=0.5, lr=1e-4)
    alone = _train(arrays, mask, y, [short])[0]
    together = _train(arrays, mask, y, [short, other])[0]
    assert alone.best_epoch == together.best_epoch
    np.testing.assert_allclose(alone.val_logits, together.val_logits, rtol=1e-4, atol=1e-5)
    for key, value in alone.state_dict.items():
        torch.testing.assert_close(together.state_dict[key], value, rtol=1e-4, atol=1e-5)


def test_kept_epoch_is_the_best_validation_waf_and_matches_its_logits():
    arrays, mask, y = _data()
    rows = np.arange(len(y))
    result = _train(arrays, mask, y, [_spec(rows[:60], rows[60:], seed=4)], epochs=10)[0]
    pred = softmax(result.val_logits).argmax(axis=1)
    assert result.waf == pytest.approx(metrics.waf_indices(y[60:], pred))
    assert 1 <= result.best_epoch <= 10
    model = AttentionFusion([a.shape[1] for a in arrays], 16, 0.3, "raw")
    model.load_state_dict(result.state_dict)
    Z = [
        standardise(a[60:], mask[60:, i], result.mean[i], result.std[i])
        for i, a in enumerate(arrays)
    ]
    logits = eval_logits(model, Z, torch.from_numpy(mask[60:]))
    np.testing.assert_allclose(logits, result.val_logits, rtol=1e-5, atol=1e-6)


def test_per_model_waf_matches_sklearn():
    rng = np.random.default_rng(0)
    y = torch.from_numpy(rng.integers(0, 6, size=(3, 40)))
    pred = torch.from_numpy(rng.integers(0, 6, size=(3, 40)))
    valid = torch.ones(3, 40, dtype=torch.bool)
    valid[2, 25:] = False
    got = stacked.waf_per_model(y, pred, valid)
    for m in range(3):
        keep = valid[m].numpy()
        t = [LABELS[i] for i in y[m].numpy()[keep]]
        p = [LABELS[i] for i in pred[m].numpy()[keep]]
        assert got[m].item() == pytest.approx(metrics.waf(t, p), abs=1e-12)


def test_empty_training_rows_raise():
    arrays, mask, y = _data(n=30)
    with pytest.raises(ValueError, match="model 0: empty"):
        _train(arrays, mask, y, [_spec([], [1, 2], seed=0)])


def test_extra_rows_join_training_folds_never_validation():
    X = {"a": np.zeros((30, 2), np.float32)}
    mask = {"a": np.ones(30, bool)}
    y = [LABELS[i % 6] for i in range(30)]
    extra = dataset.ExtraRows(
        X={"a": np.ones((4, 2), np.float32)}, mask={"a": np.ones(4, bool)}, y=np.zeros(4)
    )
    params = FusionParams(hidden_dim=8, epochs=1, folds=3)
    plain = training.cross_validate(X, mask, y, params)
    more = training.cross_validate(X, mask, y, params, extra=extra)
    assert np.array_equal(plain.fold, more.fold)  # same validation folds
    assert [f["n_val"] for f in plain.folds] == [f["n_val"] for f in more.folds]
    assert [f["n_train"] + 4 for f in plain.folds] == [f["n_train"] for f in more.folds]


_PREFIX = f"SCRIPTS = {str(REPO / 'workflow_scripts')!r}\n"
_RUN = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np, torch
    sys.path.insert(0, SCRIPTS)
    from merlib.fusion import prediction, training
    from merlib.fusion.params import FusionParams
    from merlib.labels import LABELS
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    y = [LABELS[i % 6] for i in range(48)]
    X = {"a": rng.normal(size=(48, 6)).astype(np.float32),
         "b": rng.normal(size=(48, 3)).astype(np.float32)}
    mask = {"a": np.ones(48, bool), "b": np.arange(48) % 5 > 0}
    params = FusionParams(hidden_dim=8, epochs=4, folds=3, seed=7)
    cv = training.cross_validate(X, mask, y, params)
    probs = prediction.predict(cv.checkpoint, X, mask)
    digest = hashlib.sha256(cv.oof_probs.tobytes() + probs.tobytes()).hexdigest()
    """
)


def test_same_config_and_seed_give_bit_identical_predictions_in_a_fresh_process():
    # This process has trained other models before (its RNGs are elsewhere): a fresh
    # interpreter must still give the same bytes.
    fresh = subprocess.run(
        [sys.executable, "-c", _PREFIX + _RUN + "print(digest)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.strip()
    torch.manual_seed(99)
    scope = {}
    exec(_PREFIX + _RUN, scope)  # the same code, in this process
    assert len(fresh) == len(hashlib.sha256().hexdigest())
    assert scope["digest"] == fresh


def test_row_adam_is_torchs_adam_per_model_with_its_lr_and_skipped_steps():
    # Two models, lr 1e-2 and 1e-3; model 1 has no rows at step 2 (skips it). Each row must
    # follow torch.optim.Adam on that model alone: bit for bit the fused kernel, and within
    # float rounding the unfused (foreach) Adam that train_fold uses.
    g = torch.Generator().manual_seed(0)
    start = torch.randn(2, 50, generator=g)
    grads = [torch.randn(2, 50, generator=g) for _ in range(4)]
    counts = [[3, 3], [3, 0], [3, 3], [1, 2]]
    flat, grad = start.clone(), torch.zeros(2, 50)
    adam = stacked.AdamRows(flat, grad, [1e-2, 1e-3])
    for step_grad, count in zip(grads, counts, strict=True):
        grad.copy_(step_grad)
        adam(count, weight_decay=1e-5)
    for m, lr in enumerate([1e-2, 1e-3]):
        for fused in (True, False):
            p = torch.nn.Parameter(start[m].clone())
            kind = {"fused": True} if fused else {"foreach": True}
            optimiser = torch.optim.Adam([p], lr=lr, weight_decay=1e-5, **kind)
            for step_grad, count in zip(grads, counts, strict=True):
                if count[m]:
                    p.grad = step_grad[m].clone()
                    optimiser.step()
            if fused:
                assert torch.equal(flat[m], p.detach()), m
            else:
                torch.testing.assert_close(flat[m], p.detach(), rtol=1e-6, atol=1e-7)
    assert not torch.equal(flat, start)
