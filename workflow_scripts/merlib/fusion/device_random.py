"""Counter-based random draws for stacked training on a GPU: per-model, stateless, on the device.

The CPU path of :func:`merlib.fusion.stacked.train_stacked` draws every model's batch order
and dropout masks from its own ``torch.Generator`` on the CPU (bit-identical run to run,
whatever else is stacked). On a GPU that costs one small CPU draw per model per dropout
site per step, plus a pageable copy: 13,720 ``fill_`` calls per epoch of 5 models, and the
GPU idles 96 % of each step (issue 24). Here every random number is a pure function of

    (model seed, epoch, step, site, element position)

computed with integer hashing on the device in a handful of element-wise kernels for the
whole stack: no generator state, no CPU work, no host synchronisation, and nothing that
depends on which other models share the stack or how many there are. So a model trains the
same alone or in a stack of 250 (up to the float rounding of batched products of other
sizes), and the same run on the same device gives the same bits again.

The hash is an integer finaliser of the ``lowbias32`` kind (xor-shift, multiply, xor-shift,
multiply, xor-shift) on 32-bit values held in int64 tensors; every multiplier is below 2**31,
so the 64-bit products never overflow and CPU and GPU compute the same integers: the
device stream is the same on every device (``tests/unit/test_stacked_gpu_path.py`` runs it
on the CPU). A uniform draw takes the top 24 bits (float32's resolution, as ``torch.rand``).
It is *not* the CPU path's stream (``torch.Generator``'s Mersenne twister): the same seeds
give other dropout masks and batch orders on the device stream, hence other weights and
scores, of the same distribution (same protocol, different random streams).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

MASK32 = 0xFFFFFFFF
_M1 = 0x7FEB352D  # lowbias32's first multiplier
_M2 = 0x2C1B3C6D  # odd, < 2**31: products of 32-bit values stay within int64
_GOLDEN = 0x9E3779B9
_SITES = 16  # dropout sites per step a counter leaves room for (features + 1)
_PERMUTATION_SITE = _SITES - 1  # the batch order's draws, once per epoch


def mix32(x: torch.Tensor) -> torch.Tensor:
    """The 32-bit finaliser on an int64 tensor of values in [0, 2**32)."""
    x = x ^ (x >> 16)
    x = (x * _M1) & MASK32
    x = x ^ (x >> 15)
    x = (x * _M2) & MASK32
    return x ^ (x >> 16)


def mix32_int(x: int) -> int:
    """:func:`mix32` of one Python int (computed on the host: no device work, no sync)."""
    x &= MASK32
    x ^= x >> 16
    x = (x * _M1) & MASK32
    x ^= x >> 15
    x = (x * _M2) & MASK32
    return x ^ (x >> 16)


def _counter(epoch: int, within: int) -> int:
    """The 32-bit counter of one draw of an epoch: hashed, not packed, so that long runs
    do not wrap around onto earlier epochs' counters."""
    return mix32_int(mix32_int(int(epoch)) ^ (int(within) & MASK32))


class CounterStream:
    """The random draws of a stack of models, one stream per model seed, on ``device``.

    ``uniform(epoch, step, site, shape)`` gives model m's (M, *shape) float32 uniforms in
    [0, 1) for that dropout site of that step; ``permutation(epoch, n_rows, width)`` each
    model's shuffle of its first ``n_rows[m]`` positions (padding positions last). Counters
    are Python ints known on the host, so nothing waits for the device.
    """

    def __init__(self, seeds: Sequence[int], device: torch.device):
        self.device = torch.device(device)
        seeds = torch.tensor([int(s) & MASK32 for s in seeds], dtype=torch.int64)
        # Two rounds with a stream constant: seeds 1, 2, 3 give unrelated keys.
        self.keys = mix32(mix32(seeds ^ _GOLDEN) ^ 0x5BD1E995).to(self.device)
        self._positions: dict[tuple[int, ...], torch.Tensor] = {}

    def _position_hash(self, shape: tuple[int, ...]) -> torch.Tensor:
        """mix32 of each element's flat position within one model's draw (cached per shape)."""
        if shape not in self._positions:
            n = 1
            for s in shape:
                n *= int(s)
            pos = torch.arange(n, dtype=torch.int64, device=self.device).view(shape)
            self._positions[shape] = mix32(pos * _GOLDEN & MASK32)
        return self._positions[shape]

    def _bits(self, counter: int, shape: tuple[int, ...]) -> torch.Tensor:
        """(M, *shape) 32-bit hashes of (model key, counter, position)."""
        step_key = mix32(self.keys ^ mix32_int(counter))  # (M,)
        key = step_key.view(-1, *([1] * len(shape)))
        return mix32(key ^ self._position_hash(shape))

    def uniform(self, epoch: int, step: int, site: int, shape: Sequence[int]) -> torch.Tensor:
        if not 0 <= site < _PERMUTATION_SITE:
            raise ValueError(f"dropout site {site} out of range (at most {_PERMUTATION_SITE - 1})")
        bits = self._bits(_counter(epoch, int(step) * _SITES + site), tuple(int(s) for s in shape))
        return (bits >> 8).to(torch.float32) * (1.0 / (1 << 24))

    def permutation(self, epoch: int, n_rows: torch.Tensor, width: int) -> torch.Tensor:
        """(M, width) int64: row m is a permutation of 0..width-1 whose first ``n_rows[m]``
        entries shuffle 0..n_rows[m]-1 (the padding positions come after, in order)."""
        bits = self._bits(_counter(epoch, _PERMUTATION_SITE), (int(width),))
        pos = torch.arange(width, device=self.device).view(1, -1)
        padding = pos >= n_rows.view(-1, 1)
        # padding keys above every 32-bit hash, in position order: they sort last
        keys = torch.where(padding, (1 << 32) + pos, bits)
        return torch.argsort(keys, dim=1, stable=True)
