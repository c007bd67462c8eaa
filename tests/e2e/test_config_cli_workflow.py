"""--config as a user types it, in real dry runs: nested values read as YAML (the schema's
types hold), overlaid on the config files key by key; mistakes all in one message, no
traceback. Dry runs only: each takes seconds."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import REPO, failed, snakemake

pytestmark = pytest.mark.e2e

DEFAULT_JOBS = {"extract_features": 12, "search_fusion": 6}  # config.yaml: 4 shards x 3


def planned(out: str) -> dict[str, int]:
    """rule -> job count, from a dry run's job stats."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+) +(\d+)$", out, flags=re.M)}


@pytest.mark.parametrize(
    ("value", "jobs"),
    [
        ("search={n_combinations: 2}", {"search_fusion": 2}),  # int
        ("fusion={epochs: 3}", DEFAULT_JOBS),  # int, the README's example
        ("media={face_size: 96}", DEFAULT_JOBS),  # int
        ("fusion={lr: 0.01}", DEFAULT_JOBS),  # float
        ("tables={enabled: true}", {"tabulate_unimodal": 1, "extract_features": 16}),  # bool
        ("fusion={features: [egemaps]}", {"extract_features": 4}),  # list
    ],
    ids=["int", "int-readme", "int-media", "float", "bool", "list"],
)
def test_a_nested_config_value_takes_the_schemas_type(tmp_path, value, jobs):
    proc = snakemake(tmp_path, "-n", "--config", value)
    assert proc.returncode == 0, failed(proc)
    plan = planned(proc.stdout)
    assert {rule: plan.get(rule) for rule in jobs} == jobs
    assert plan.get("train_fusion") == 1  # the rest of the section kept its values


def test_config_values_overlay_a_users_config_file_key_by_key(tmp_path):
    overlay = tmp_path / "mine.yaml"
    overlay.write_text("fusion: {features: [egemaps]}\nsearch: {n_combinations: 3}\n")
    config = ["--configfile", str(REPO / "config.yaml"), str(overlay)]
    proc = snakemake(tmp_path, "-n", *config, "--config", "fusion={epochs: 3}")
    assert proc.returncode == 0, failed(proc)
    plan = planned(proc.stdout)
    # fusion.features from the file survives --config's fusion={epochs: 3}
    assert plan["extract_features"] == 4 and plan["search_fusion"] == 3


def test_three_mistakes_make_one_message_without_a_traceback(tmp_path):
    proc = snakemake(
        tmp_path,
        "-n",
        "--config",
        "fusion={features: [egemaps, nope]}",
        "noise={snr_db: [10, 5]}",
        "ov={method: llm}",
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, failed(proc)
    assert "Config error: 3 mistakes." in out
    assert "fusion.features names 'nope'" in out
    assert "noise.snr_db is [10, 5]: the first value (min) must not exceed" in out
    assert "ov.llm.model is not set" in out
    assert "Traceback" not in out and 'File "' not in out
    assert out.count("Config error") == 1
    assert not (tmp_path / "results").exists()


def test_noise_augmentation_reaches_fusion_as_the_noisy_copys_named_inputs(tmp_path):
    musan = tmp_path / "musan"
    musan.mkdir()
    value = f"noise={{musan_dir: {musan}, augment_training: true}}"
    proc = snakemake(tmp_path, "-n", "--config", value, "--", "results/fusion/model.pt")
    assert proc.returncode == 0, failed(proc)
    block = re.search(r"^rule train_fusion:\n((?:    .*\n)+)", proc.stdout, flags=re.M)[1]
    inputs = re.search(r"^    input: (.*)$", block, flags=re.M)[1].split(", ")
    for name in ("egemaps", "fer"):  # audio and visual features: the noisy copy's own
        assert f"results/noise/train/features/{name}/000.parquet" in inputs
        assert f"results/noise/train/feature_flags/{name}/003.parquet" in inputs
    # text does not change with noise or blur: the clean copy's files serve
    assert not any("results/noise/train/features/use_m3" in f for f in inputs)
    assert "results/features/use_m3/000.parquet" in inputs


def test_candidate_names_not_in_the_release_stop_the_run_before_any_job(tmp_path):
    release = tmp_path / "release"
    for folder, name in (("video-labeled", "l1"), ("video-unlabeled-with-test2noise", "u1")):
        (release / folder).mkdir(parents=True)
        (release / folder / f"{name}.mp4").write_bytes(b"")
    (release / "label-disdim.csv").write_text("name,discrete\nl1,happy\n")
    (release / "label-transcription.csv").write_text("name,chinese\nl1,好\n")
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("name\nu1\nghost_a\nghost_b\n")
    value = f"evaluate={{candidates: {candidates}}}"
    proc = snakemake(tmp_path, "-n", "--config", f"data_root={release}", value)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, failed(proc)
    assert "2 of 3 names are not clips of data_root" in out and "ghost_a, ghost_b" in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()
    candidates.write_text("name\nu1\n")
    proc = snakemake(tmp_path, "-n", "--config", f"data_root={release}", value)
    assert proc.returncode == 0, failed(proc)
