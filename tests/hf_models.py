"""Tiny Hugging Face models built at test time (the model hubs are unreachable), saved the
way the encoders load real ones."""

from __future__ import annotations

from pathlib import Path

import torch


def save_tiny_model(model, folder: Path, *processors) -> str:
    """Save a tiny randomly initialised model (seeded) and its processors to ``folder``, as
    ``from_pretrained`` reads them; returns the folder."""
    torch.manual_seed(0)
    model.save_pretrained(folder)
    for p in processors:
        p.save_pretrained(folder)
    return str(folder)
