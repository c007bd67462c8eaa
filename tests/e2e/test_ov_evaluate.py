"""End to end: the MER-OV evaluation rule alone on two files and a release-format grouping."""

from __future__ import annotations

import json

import numpy as np
import pytest
from e2e_helpers import REPO, snakemake

pytestmark = pytest.mark.e2e


def test_evaluate_ov_scores_any_two_files_with_a_synonym_folder(tmp_path):
    (tmp_path / "gt.csv").write_text(
        "name,openset\ns1,\"['happy', 'relaxed']\"\ns2,['sad']\ns3,\"['angry', 'furious']\"\n"
    )
    (tmp_path / "pred.csv").write_text("name,openset\ns1,\"['Joyful']\"\ns2,[]\nzz,['happy']\n")
    synonyms = tmp_path / "openset-synonym"
    synonyms.mkdir()
    np.save(synonyms / "s1.npy", "[['happy', 'joyful'], ['relaxed']]")
    np.save(synonyms / "s3.npy", "[['angry', 'furious']]")
    proc = snakemake(
        tmp_path,
        "--configfile",
        str(REPO / "config.yaml"),
        "--cores",
        "1",
        "--config",
        f"ov={{gt_csv: '{tmp_path / 'gt.csv'}', pred_csv: '{tmp_path / 'pred.csv'}', "
        f"synonyms: '{synonyms}'}}",
        "--",
        "results/ov/metrics.json",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "results/ov/metrics.json").read_text())
    # s1: G={happy, relaxed}, P={happy}: 1, 0.5; s2: P empty: 0, 0; s3: no prediction: 0, 0
    assert metrics["accuracy"] == pytest.approx(1 / 3)
    assert metrics["recall"] == pytest.approx(0.5 / 3)
    assert metrics["avg"] == pytest.approx((1 / 3 + 0.5 / 3) / 2)
    assert metrics["n_clips"] == 3 and metrics["unknown_predictions"] == ["zz"]
    assert metrics["grouping"] == f"file:{synonyms}"
    assert not (tmp_path / "results" / "ingest").exists()
