"""`snakemake apply`: a model trained on a small release applied to real videos (GRID's
four speakers with hard cuts, Tears of Steel without audio in a sub-folder, silence):
every turn has a row, the turns cover the speech, the SRT parses, bad videos give rows
with notes, the labels equal those the release path (ingest, media, transcripts,
features, predict_unlabelled's predict_manifest) gives for the same turn clips, and the
video's time windows (4 s here: three) give the timeline one window gives."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from apply_footage import coverage, grey_with
from e2e_helpers import REPO, chromium, config_args, failed, overlay, snakemake

from merlib.fusion.dataset import FeatureSources
from merlib.fusion.prediction import load_checkpoint, predict_manifest
from merlib.labels import PROB_COLUMNS
from merlib.shards import shard_ids
from merlib.subtitles import read_subtitles

GRID = "grid_4speakers_cuts"
NO_AUDIO = "sub_tears_of_steel_10s"
SILENCE = "silence"


@pytest.fixture(scope="module")
def applied(shared_data, small_release, tmp_path_factory):
    videos = tmp_path_factory.mktemp("videos")
    shutil.copy(shared_data / "video" / "grid-cuts" / f"{GRID}.mp4", videos)
    (videos / "sub").mkdir()
    shutil.copy(shared_data / "video" / "broadcast" / "tears_of_steel_10s.mp4", videos / "sub")
    grey_with(videos / f"{SILENCE}.mp4", None)
    workdir = tmp_path_factory.mktemp("apply")
    config = overlay(
        "apply",
        workdir.parent / f"{workdir.name}.yaml",
        data_root=str(small_release),
        evaluate={"test_labels": str(small_release / "test-labels.csv")},
        apply={"videos_dir": str(videos)},
    )
    proc = snakemake(workdir, *config_args(config), "--cores", "2", "apply")
    assert proc.returncode == 0, failed(proc)
    return workdir, config


def _timeline(workdir: Path, video: str) -> list[dict]:
    return pq.read_table(workdir / "results" / "apply" / video / "timeline.parquet").to_pylist()


def test_every_turn_has_a_row_and_the_turns_cover_the_speech(applied, shared_data):
    workdir, _ = applied
    rows = _timeline(workdir, GRID)
    turns = pq.read_table(workdir / "results" / "apply" / GRID / "clips" / "turns.parquet")
    assert sorted(r["name"] for r in rows) == sorted(turns.column("name").to_pylist())
    truth = json.loads((shared_data / "video" / "grid-cuts" / f"{GRID}.json").read_text())
    spoken = [tuple(t["speech"]) for t in truth["turns"] if t["speech"]]
    assert coverage(spoken, [(r["start"], r["end"]) for r in rows]) >= 0.9
    for r in rows:
        if r["label"] is not None:
            assert sum(r[c] for c in PROB_COLUMNS) == pytest.approx(1.0)
            assert r["confidence"] == pytest.approx(r[f"p_{r['label']}"]) and r["modalities"]
    assert len({r["speaker"] for r in rows}) == 4
    # four faces, linked across turns: one track per person, each one voice's
    assert len({r["face_track"] for r in rows}) == 4 and all(r["face_track"] for r in rows)
    assert len({(r["speaker"], r["face_track"]) for r in rows}) == 4


def test_card_written_beside_the_model_names_the_features(applied):
    workdir, _ = applied
    card = json.loads((workdir / "results" / "fusion" / "model_card.json").read_text())
    checkpoint = load_checkpoint(workdir / "results" / "fusion" / "model.pt")
    assert [f["name"] for f in card["features"]] == list(checkpoint["features"])


def test_srt_csv_picture_and_summary_of_every_video(applied):
    workdir, _ = applied
    for video in (GRID, NO_AUDIO, SILENCE):
        folder = workdir / "results" / "apply" / video
        rows = _timeline(workdir, video)
        cues = read_subtitles(folder / f"{video}.emotions.srt")
        assert len(cues) == sum(r["end"] > r["start"] for r in rows)
        assert all(c.text.startswith("[") for c in cues)
        assert (folder / "timeline.png").stat().st_size > 1000
        assert len((folder / "timeline.csv").read_text().splitlines()) == len(rows) + 1
        assert (folder / "summary.csv").read_text().startswith('"video","speaker"')


def test_timeline_pages_and_the_report_name_every_turn(applied, tmp_path):
    """Each video's timeline.html draws one rectangle per turn (its clip's name) and rows'
    notes; Chromium renders GRID's with an axis and shows a turn's text on focus; the
    run's report.html links every video's page, picture and subtitles."""
    workdir, _ = applied
    apply_dir = workdir / "results" / "apply"
    report = (apply_dir / "report.html").read_text(encoding="utf-8")
    for video in (GRID, NO_AUDIO, SILENCE):
        rows = _timeline(workdir, video)
        page = (apply_dir / video / "timeline.html").read_text(encoding="utf-8")
        names = re.findall(r"class='turn' tabindex='0' data-i='\d+' data-name='([^']+)'", page)
        assert sorted(names) == sorted(r["name"] for r in rows)
        for r in rows:
            assert not r["note"] or html.escape(r["note"]) in page
        for link in ("timeline.html", "timeline.png", f"{video}.emotions.srt"):
            assert f"href='{video}/{link}'" in report
        assert f"{len(rows)} turn{'s' * (len(rows) != 1)} over" in report
    probe = (
        "<script>window.addEventListener('load', () => setTimeout(() => {"
        "const r = [...document.querySelectorAll('svg .turn')].find((t) =>"
        " JSON.parse(document.getElementById('turns').textContent)[+t.dataset.i].text)"
        " || document.querySelector('svg .turn'); r.focus();"
        "const pre = document.createElement('pre'); pre.id = 'probe';"
        "pre.textContent = JSON.stringify({tip: document.getElementById('tip').textContent,"
        " name: r.dataset.name, ticks: document.querySelectorAll('#axis text').length});"
        "document.body.appendChild(pre); }, 300));</script>"
    )
    page = tmp_path / "grid.html"
    page.write_text((apply_dir / GRID / "timeline.html").read_text() + probe, encoding="utf-8")
    found = re.search(r'<pre id="probe">(.*?)</pre>', chromium(page, tmp_path / "p", "--dump-dom"))
    assert found, "the timeline page's script did not run"
    out = json.loads(html.unescape(found[1]))
    turn = {r["name"]: r for r in _timeline(workdir, GRID)}[out["name"]]
    assert f"{turn['start']:.2f} - {turn['end']:.2f} s" in out["tip"] and out["ticks"] >= 3, out
    assert turn["speaker"] in out["tip"] and (turn["text"] or "") in out["tip"], out


@pytest.mark.parametrize(("video", "reason"), [(NO_AUDIO, "no audio track"), (SILENCE, "speech")])
def test_video_without_audio_or_speech_is_one_row_with_a_note(applied, video, reason):
    workdir, _ = applied
    (row,) = _timeline(workdir, video)
    assert (
        row["label"] is None
        and reason in row["note"]
        and row["end"] == pytest.approx(10.0, abs=4.1)
    )


def test_labels_equal_the_release_paths_for_the_same_turn_clips(applied, small_release):
    """The turn clips as a release's unlabelled pool, run through ingest, media,
    transcripts and features by the release's own rules, predicted by predict_unlabelled's
    library function with the same model: the same labels as the timeline. (A release
    needs one labelled clip: one of the small release's.)"""
    workdir, config = applied
    release = workdir / "results" / "apply" / GRID / "clips"
    (release / "video-labeled").mkdir(exist_ok=True)
    labelled = sorted((small_release / "video-labeled").glob("*.mp4"))[0]
    shutil.copy(labelled, release / "video-labeled")
    (release / "label-disdim.csv").write_text(f"name,discrete\n{labelled.stem},neutral\n")
    names = [r["name"] for r in _timeline(workdir, GRID) if r["label"] is not None]
    (release / "label-transcription.csv").write_text("name,chinese\n")
    other = workdir.parent / f"{workdir.name}-release"
    checkpoint = load_checkpoint(workdir / "results" / "fusion" / "model.pt")
    features = list(checkpoint["features"])
    cfg = overlay(
        "apply",
        other.parent / f"{other.name}.yaml",
        data_root=str(release),
        evaluate={"test_labels": None},
        apply={"videos_dir": None},
    )
    shards = shard_ids(2)
    targets = [
        f"results/{t}/{f}/{s}.parquet"
        for t in ("features", "feature_flags")
        for f in features
        for s in shards
    ]
    proc = snakemake(other, *config_args(cfg), "--cores", "2", *targets)
    assert proc.returncode == 0, failed(proc)
    sources = FeatureSources(
        {f: [other / f"results/features/{f}/{s}.parquet" for s in shards] for f in features},
        {f: [other / f"results/feature_flags/{f}/{s}.parquet" for s in shards] for f in features},
    )
    run = predict_manifest(other / "results/ingest/manifest.parquet", checkpoint, sources)
    release_labels = {r["name"]: r["discrete"] for r in run.predictions.to_pylist()}
    timeline = {r["name"]: r["label"] for r in _timeline(workdir, GRID) if r["label"]}
    assert names and timeline == {n: release_labels[n] for n in timeline}


def test_each_time_window_is_a_shard_with_its_jobs_and_progress(applied):
    workdir, _ = applied
    folder = workdir / "results" / "apply" / GRID
    listing = json.loads((folder / "clips" / "shards.json").read_text())
    shards = [s["shard"] for s in listing["shards"]]
    manifest = pq.read_table(folder / "clips" / "manifest.parquet").to_pylist()
    turns = {r["name"]: r for r in pq.read_table(folder / "clips" / "turns.parquet").to_pylist()}
    assert listing["windows"] == 3 and len(shards) >= 2
    assert sorted({r["shard"] for r in manifest}) == shards
    for r in manifest:
        assert r["shard"] == f"w{int(turns[r['name']]['start'] // 4):04d}"
    for shard in listing["shards"]:
        assert (folder / "transcripts" / f"{shard['shard']}.parquet").exists()
        log = workdir / "logs" / "extract_apply_media" / GRID / f"{shard['shard']}.log"
        assert shard["progress"] in log.read_text()
        assert shard["progress"].startswith(f"window {shard['window'] + 1}/3, 00:00:")
    # the silent video has no clip: its one empty shard, window 0
    silent = json.loads((workdir / "results/apply" / SILENCE / "clips/shards.json").read_text())
    assert [(s["shard"], s["clips"]) for s in silent["shards"]] == [("w0000", 0)]


def test_nothing_reruns_when_nothing_changed(applied):
    workdir, config = applied
    proc = snakemake(workdir, *config_args(config), "-n", "apply", timeout=300)
    assert proc.returncode == 0, failed(proc)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_rewritten_clips_of_unchanged_windows_rerun_no_window(applied):
    """The clip manifest rewritten with the same clips in another order (as a rerun of
    export_apply_clips could write it): the per-shard jobs carry their window's digest and
    rerun none; the prediction, which reads the manifest, reruns. (A dry run; the file is
    put back.)"""
    workdir, config = applied
    manifest = workdir / "results" / "apply" / GRID / "clips" / "manifest.parquet"
    data, stat = manifest.read_bytes(), manifest.stat()
    table = pq.read_table(manifest)
    try:
        pq.write_table(table.take(list(range(table.num_rows))[::-1]), manifest)
        assert manifest.read_bytes() != data
        proc = snakemake(workdir, *config_args(config), "-n", "apply", timeout=300)
    finally:
        manifest.write_bytes(data)
        os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert proc.returncode == 0, failed(proc)
    out = proc.stdout + proc.stderr
    assert "rule predict_apply_turns:" in out
    for rule in ("extract_apply_media", "transcribe_apply_clips", "extract_apply_features"):
        assert f"rule {rule}:" not in out


def test_one_window_gives_the_timeline_of_several(applied, tmp_path):
    """The same video and model with one window (apply.window_s 600, the default): the
    same turns, speakers and labels as with three 4 s windows."""
    workdir, config = applied
    settings = yaml.safe_load(config.read_text())
    settings["apply"] |= {"window_s": 600, "model_dir": str(workdir / "results")}
    one = tmp_path / "one-window.yaml"
    one.write_text(yaml.safe_dump(settings))
    target = f"results/apply/{GRID}/timeline.parquet"
    proc = snakemake(tmp_path / "work", *config_args(one), "--cores", "2", target)
    assert proc.returncode == 0, failed(proc)
    shards = json.loads((tmp_path / "work" / f"results/apply/{GRID}/clips/shards.json").read_text())
    assert [s["shard"] for s in shards["shards"]] == ["w0000"]
    single = pq.read_table(tmp_path / "work" / target).to_pylist()
    several = _timeline(workdir, GRID)
    keys = ("name", "start", "end", "speaker", "face_track", "text", "label", "modalities")
    assert [tuple(r[k] for k in keys) for r in single] == [
        tuple(r[k] for k in keys) for r in several
    ]
    for a, b in zip(single, several, strict=True):
        for c in PROB_COLUMNS:
            assert a[c] == pytest.approx(b[c], abs=1e-4)


# --- bad input: caught before any job runs (dry runs) -------------------------------------
def _card(features: dict) -> dict:
    from merlib.labels import LABELS

    return {
        "format": "merflow-model-card",
        "version": 1,
        "labels": list(LABELS),
        "features": [{"name": n, "dim": 1, "options": o} for n, o in features.items()],
        "fusion": {},
    }


def _dry_run(tmp_path: Path, shared_data: Path, **apply) -> str:
    videos = tmp_path / "videos"
    if not videos.exists():
        videos.mkdir()
        shutil.copy(shared_data / "video" / "grid-cuts" / f"{GRID}.mp4", videos)
    settings = {"videos_dir": str(videos)} | apply
    config = overlay("apply", tmp_path / "config.yaml", apply=settings)
    proc = snakemake(tmp_path / "work", *config_args(config), "-n", "apply", timeout=300)
    assert proc.returncode != 0, "the dry run should have failed"
    return proc.stdout + proc.stderr


def test_videos_dir_without_video_is_an_error_naming_it(tmp_path, shared_data):
    (tmp_path / "empty").mkdir()
    out = _dry_run(tmp_path, shared_data, videos_dir=str(tmp_path / "empty"))
    assert f"apply.videos_dir {str(tmp_path / 'empty')!r} holds no video" in out


def test_model_dir_without_a_card_is_an_error_naming_the_card(tmp_path, shared_data):
    (tmp_path / "other" / "fusion").mkdir(parents=True)
    (tmp_path / "other" / "fusion" / "model.pt").write_bytes(b"")
    out = _dry_run(tmp_path, shared_data, model_dir=str(tmp_path / "other"))
    assert f"no model card {tmp_path / 'other' / 'fusion' / 'model_card.json'}" in out


def test_model_trained_with_other_feature_options_is_an_error_naming_them(tmp_path, shared_data):
    features = yaml.safe_load((REPO / "config.yaml").read_text())["features"]
    trained = {n: dict(features[n], options={}) for n in ("egemaps", "fer", "use_m3")}
    trained["use_m3"]["model"] = "another-text-encoder"
    (tmp_path / "other" / "fusion").mkdir(parents=True)
    (tmp_path / "other" / "fusion" / "model_card.json").write_text(json.dumps(_card(trained)))
    out = _dry_run(tmp_path, shared_data, model_dir=str(tmp_path / "other"))
    assert (
        "feature 'use_m3' option 'model': 'use-multilingual-v3' is applied, the model was "
        "trained with 'another-text-encoder'"
    ) in out
