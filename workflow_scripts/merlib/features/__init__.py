"""Utterance-level features (being split into one module per concept; see base)."""
