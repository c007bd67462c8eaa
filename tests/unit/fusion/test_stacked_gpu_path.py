"""Stacked training's GPU path (random draws on the device, no per-step host sync), run
on the CPU: the same code a CUDA run takes, with ``random_stream="device"`` forcing the
device stream; and the CPU path's results unchanged by it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from merlib.fusion import stacked
from merlib.fusion.device_random import CounterStream, mix32, mix32_int
from merlib.labels import LABELS

REPO = Path(__file__).resolve().parents[3]
BEFORE_DEVICE_STREAM = "88f6bdb"  # the last commit before the device stream existed

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(n=90, dims=(9, 4, 16), seed=0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(LABELS))
    arrays = []
    for d in dims:
        centres = rng.normal(size=(len(LABELS), d))
        arrays.append((0.8 * centres[y] + rng.normal(size=(n, d))).astype(np.float32))
    mask = np.ones((n, len(dims)), dtype=bool)
    mask[::7, 1] = False
    return arrays, mask, y


def _train(specs, epochs=4, stream="device", data=None):
    arrays, mask, y = data or _data()
    return stacked.train_stacked(
        arrays, mask, y, specs, hidden_dim=16, attention="raw", epochs=epochs,
        batch_size=8, weight_decay=1e-5, device="cpu", random_stream=stream,
    )  # fmt: skip


def _specs():
    rows = np.arange(90)
    return [
        stacked.ModelSpec(rows[:50], rows[70:], 0.2, 3e-3, 1),  # fewer rows: empty batches
        stacked.ModelSpec(rows[20:], rows[:20], 0.5, 1e-3, 2),
        stacked.ModelSpec(rows[10:80], rows[80:], 0.3, 1e-3, 3),
    ]


def _same(a, b):
    assert a.best_epoch == b.best_epoch and a.waf == b.waf
    assert np.array_equal(a.val_logits, b.val_logits)
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)


def _close(a, b):
    # Products over other batch shapes (padding rows of a bigger stack) round otherwise.
    assert a.best_epoch == b.best_epoch
    np.testing.assert_allclose(a.val_logits, b.val_logits, rtol=1e-4, atol=1e-5)
    for key, value in a.state_dict.items():
        torch.testing.assert_close(b.state_dict[key], value, rtol=1e-4, atol=1e-5)


def test_hash_on_tensors_equals_the_integer_hash_so_every_device_computes_the_same_bits():
    # Values up to 2**32 - 1: the 64-bit products must not overflow (constants < 2**31).
    values = [0, 1, 2, 12345, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1, 0x9E3779B9]
    got = mix32(torch.tensor(values, dtype=torch.int64)).tolist()
    assert got == [mix32_int(v) for v in values]
    assert all(0 <= v < 2**32 for v in got)


def test_device_uniforms_are_uniform_and_independent_across_models_steps_and_sites():
    stream = CounterStream([1, 2, 3], torch.device("cpu"))
    u = stream.uniform(epoch=1, step=0, site=0, shape=(64, 512))
    assert u.shape == (3, 64, 512) and u.dtype == torch.float32
    assert float(u.min()) >= 0.0 and float(u.max()) < 1.0
    counts = torch.histc(u[0], bins=16, min=0.0, max=1.0)
    expected = u[0].numel() / 16
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 45.0  # 15 degrees of freedom: p < 1e-4 above this
    others = [
        u[1],
        stream.uniform(1, 1, 0, (64, 512))[0],
        stream.uniform(1, 0, 1, (64, 512))[0],
        stream.uniform(2, 0, 0, (64, 512))[0],
        u[0].roll(1, dims=1),  # neighbouring elements
    ]
    for other in others:
        corr = np.corrcoef(u[0].flatten().numpy(), other.flatten().numpy())[0, 1]
        assert abs(corr) < 0.02
    assert torch.equal(u, CounterStream([1, 2, 3], torch.device("cpu")).uniform(1, 0, 0, (64, 512)))


def test_device_permutation_shuffles_each_models_rows_and_puts_padding_last():
    stream = CounterStream([5, 6], torch.device("cpu"))
    n_rows = torch.tensor([7, 10])
    perm = stream.permutation(3, n_rows, 10)
    assert sorted(perm[0, :7].tolist()) == list(range(7)) and perm[0, 7:].tolist() == [7, 8, 9]
    assert sorted(perm[1].tolist()) == list(range(10))
    assert not torch.equal(perm, stream.permutation(4, n_rows, 10))  # a new order each epoch


def test_device_stream_is_reproducible_and_a_model_trains_the_same_alone_or_stacked():
    # Bit-identical run to run; alone or stacked the same draws (a model's draws depend on
    # its seed only), so the same training up to float rounding.
    specs = _specs()
    together = _train(specs)
    _train(specs[1:])  # the process's generators and caches move on: no effect
    for a, b in zip(together, _train(specs), strict=True):
        _same(a, b)
    for m, spec in enumerate(specs):
        _close(together[m], _train([spec])[0])
    _same(together[2], _train([specs[2], specs[1]])[0])  # same width: same bits


def test_device_stream_differs_from_the_cpu_generators_but_learns_as_well():
    data = _data(n=180, seed=4)
    rows = np.arange(180)
    specs = [stacked.ModelSpec(rows[:140], rows[140:], 0.3, 3e-3, s) for s in (1, 2, 3)]
    device = _train(specs, epochs=8, data=data)
    host = _train(specs, epochs=8, stream="host", data=data)
    assert not np.array_equal(device[0].val_logits, host[0].val_logits)
    waf_device = np.mean([r.waf for r in device])
    waf_host = np.mean([r.waf for r in host])
    assert waf_device > 0.6 and waf_host > 0.6  # 6 classes: chance is about 0.17
    assert abs(waf_device - waf_host) < 0.15


def test_auto_stream_is_the_host_generators_on_the_cpu():
    for a, b in zip(_train(_specs(), stream="auto"), _train(_specs(), stream="host"), strict=True):
        _same(a, b)
    with pytest.raises(ValueError, match="auto, host or device"):
        _train(_specs(), stream="gpu")


HOST_READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "__index__")


def _host_reads(monkeypatch, stream, epochs):
    """Calls that read a tensor's values on the host (a sync on a GPU) during training."""
    calls = []
    for name in HOST_READS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    try:
        _train(_specs(), epochs=epochs, stream=stream)
    finally:
        monkeypatch.undo()
    return calls


def test_device_stream_reads_nothing_back_per_step_or_epoch(monkeypatch):
    # 90 rows in batches of 8: 10 steps an epoch. The device path reads values back only
    # around the loop (set-up, results), so 1 and 3 epochs read the same number; the CPU
    # generators' path checks for a better epoch on the host, once per epoch.
    one, three = (_host_reads(monkeypatch, "device", e) for e in (1, 3))
    assert len(one) == len(three), (one, three)
    host_one, host_three = (_host_reads(monkeypatch, "host", e) for e in (1, 3))
    assert len(host_three) == len(host_one) + 2  # the counting sees a per-epoch read


def test_device_stream_moves_no_tensor_between_devices_inside_the_loop(monkeypatch):
    # Batch orders and dropout masks are made where the data live: the epoch loop calls
    # Tensor.to only around the loop, so 1 and 3 epochs make the same number of calls.
    def count(stream, epochs):
        calls = []
        original = torch.Tensor.to

        def counted(self, *args, **kwargs):
            if "device" in kwargs or any(isinstance(a, str | torch.device) for a in args):
                calls.append(1)  # a move, not a dtype conversion
            return original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, "to", counted)
        try:
            _train(_specs(), epochs=epochs, stream=stream)
        finally:
            monkeypatch.undo()
        return len(calls)

    assert count("device", 1) == count("device", 3)
    assert count("host", 3) > count("host", 1)  # the CPU path moves its draws each step


_DIGEST = textwrap.dedent(
    """
    import hashlib
    import numpy as np, torch
    torch.set_num_threads(1)
    from merlib.fusion import training
    from merlib.fusion.params import FusionParams
    from merlib.labels import LABELS
    rng = np.random.default_rng(3)
    n = 120
    y = rng.permutation(np.arange(n) % len(LABELS))
    arrays = [(rng.normal(size=(n, d)) + 0.5 * rng.normal(size=(6, d))[y]).astype(np.float32)
              for d in (12, 5, 20)]
    mask = np.ones((n, 3), dtype=bool)
    mask[::6, 2] = False
    X = {f"f{i}": a for i, a in enumerate(arrays)}
    masks = {f"f{i}": mask[:, i] for i in range(3)}
    runs = [(FusionParams(hidden_dim=16, dropout=d, lr=lr, epochs=5, batch_size=16, folds=3,
                          seed=7), off) for d, lr, off in ((0.3, 1e-3, 0), (0.5, 3e-3, 1000))]
    cvs = training.cross_validate_many(X, masks, [LABELS[i] for i in y], runs, device="cpu")
    h = hashlib.sha256()
    for cv in cvs:
        h.update(cv.oof_probs.tobytes())
        for f in cv.folds:
            h.update(repr((f["waf"], f["acc"], f["best_epoch"])).encode())
        for state in cv.checkpoint["folds"]:
            for v in state["state_dict"].values():
                h.update(v.numpy().tobytes())
    print(h.hexdigest())
    """
)


def _digest(workflow_scripts: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", _DIGEST],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=workflow_scripts,
        env={"PYTHONPATH": str(workflow_scripts), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()


def test_cpu_results_are_bit_identical_to_the_code_before_the_device_stream(tmp_path):
    # The library as it was before the device path, from git, against this tree: same
    # predictions, scores, kept epochs and weights, byte for byte, on the CPU.
    have = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{BEFORE_DEVICE_STREAM}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if have.returncode != 0:
        pytest.skip(f"commit {BEFORE_DEVICE_STREAM} not in this clone's history (shallow?)")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", BEFORE_DEVICE_STREAM, "workflow_scripts/merlib"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive, check=True)
    before = _digest(tmp_path / "workflow_scripts")
    assert len(before) == 64
    assert _digest(REPO / "workflow_scripts") == before
