"""Fixtures of the collection tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from collect_scenes import make_scenes


@pytest.fixture(scope="module")
def scenes(tmp_path_factory, shared_data) -> Path:
    """12 s at 640x480 with real speech: obama (0-4 s), two people (4-8 s), obama (8-10 s)
    then biden (10-12 s)."""
    return make_scenes(tmp_path_factory.mktemp("scenes"), shared_data)
