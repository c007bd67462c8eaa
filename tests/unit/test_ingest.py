"""Ingest of MER2024-layout folders: manifest, findings, every clip accounted for."""

from __future__ import annotations

import pytest

from merlib.ingest import IngestError, ingest_release, plain_name_problem
from merlib.shards import shard_of


def make_release(root, labeled, unlabeled, labels_csv, trans_csv, *, trans_bytes=None):
    (root / "video-labeled").mkdir(parents=True)
    (root / "video-unlabeled-with-test2noise").mkdir()
    for name in labeled:
        (root / "video-labeled" / f"{name}.mp4").write_bytes(b"\0\0\0\x18ftypmp42")
    for name in unlabeled:
        (root / "video-unlabeled-with-test2noise" / f"{name}.mp4").write_bytes(b"x")
    (root / "label-disdim.csv").write_text(labels_csv, encoding="utf-8")
    if trans_bytes is not None:
        (root / "label-transcription.csv").write_bytes(trans_bytes)
    else:
        (root / "label-transcription.csv").write_text(trans_csv, encoding="utf-8")
    return root


def findings_by_name(result):
    out = {}
    for row in result.findings.to_pylist():
        out.setdefault(row["name"], []).append(row)
    return out


@pytest.fixture
def release(tmp_path):
    return make_release(
        tmp_path / "mer",
        labeled=["a1", "a2", "a3"],
        unlabeled=["u1", "u2"],
        labels_csv="name,discrete\na1,happy\na2,Sad \na3,angry\n",
        trans_csv="name,chinese\na1,太好了\na2,我好难过\nu1,真的吗\n",
    )


def test_ingest_builds_manifest_with_labels_texts_and_stable_shards(release):
    result = ingest_release(release, n_shards=4)
    rows = {r["name"]: r for r in result.manifest.to_pylist()}
    assert set(rows) == {"a1", "a2", "a3", "u1", "u2"}
    assert rows["a2"]["discrete"] == "sad"  # normalised
    assert rows["u1"]["discrete"] is None and rows["u1"]["split"] == "unlabeled"
    assert rows["a1"]["transcription"] == "太好了"
    assert rows["u2"]["transcription"] is None
    assert rows["a1"]["path"] == "video-labeled/a1.mp4"
    assert all(r["shard"] == shard_of(n, 4) for n, r in rows.items())
    assert result.findings.num_rows == 0


def test_shard_of_is_stable_and_spreads_names():
    assert shard_of("sample_00000001", 256) == shard_of("sample_00000001", 256)
    counts = {}
    for i in range(4000):
        s = shard_of(f"sample_{i:08d}", 8)
        counts[s] = counts.get(s, 0) + 1
    assert len(counts) == 8 and min(counts.values()) > 400


def test_unknown_label_excludes_the_clip_with_its_line(tmp_path):
    root = make_release(
        tmp_path, ["a1", "a2"], [], "name,discrete\na1,happy\na2,joyful\n", "name,chinese\n"
    )
    result = ingest_release(root, 2)
    (finding,) = findings_by_name(result)["a2"]
    assert "unknown label 'joyful'" in finding["reason"] and "line 3" in finding["reason"]
    assert finding["excluded"]
    assert [r["name"] for r in result.manifest.to_pylist()] == ["a1"]


def test_duplicate_label_rows_exclude_the_clip_naming_both_lines(tmp_path):
    root = make_release(tmp_path, ["a1"], [], "name,discrete\na1,happy\na1,sad\n", "name,chinese\n")
    result = ingest_release(root, 2)
    (finding,) = findings_by_name(result)["a1"]
    assert "duplicate name on lines 2, 3" in finding["reason"]
    assert result.manifest.num_rows == 0


@pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", "..", ".hidden", "x\ty"])
def test_names_that_are_not_plain_file_names_are_rejected(tmp_path, bad):
    root = make_release(
        tmp_path, ["a1"], [], f'name,discrete\na1,happy\n"{bad}",sad\n', "name,chinese\n"
    )
    result = ingest_release(root, 2)
    reasons = [r["reason"] for r in result.findings.to_pylist()]
    assert any("line 3" in r for r in reasons), reasons
    assert [r["name"] for r in result.manifest.to_pylist()] == ["a1"]


def test_plain_name_problem_accepts_unicode_and_spaces_inside():
    assert plain_name_problem("样本 001") is None
    assert plain_name_problem("a\\b") is not None


def test_labels_csv_with_bom_is_read(tmp_path):
    root = make_release(tmp_path, ["a1"], [], "", "name,chinese\n")
    (root / "label-disdim.csv").write_bytes("\ufeffname,discrete\na1,worried\n".encode())
    result = ingest_release(root, 2)
    assert result.manifest.to_pylist()[0]["discrete"] == "worried"


def test_missing_column_is_an_error_naming_the_file_and_columns(tmp_path):
    root = make_release(tmp_path, ["a1"], [], "name,label\na1,happy\n", "name,chinese\n")
    with pytest.raises(IngestError, match=r"label-disdim.csv: missing column\(s\) discrete"):
        ingest_release(root, 2)


def test_release_without_transcription_file_leaves_every_text_to_asr(tmp_path):
    root = make_release(tmp_path, ["a1"], ["u1"], "name,discrete\na1,happy\n", "name,chinese\n")
    (root / "label-transcription.csv").unlink()
    result = ingest_release(root, 2)
    assert result.manifest.column("transcription").to_pylist() == [None, None]
    assert result.manifest.num_rows == 2 and result.findings.num_rows == 0
    assert any("every clip's text will come from ASR" in note for note in result.notes)


def test_gb18030_transcriptions_are_decoded(tmp_path):
    data = "name,chinese\na1,我有点担心\n".encode("gb18030")
    root = make_release(tmp_path, ["a1"], [], "name,discrete\na1,worried\n", None, trans_bytes=data)
    result = ingest_release(root, 2)
    assert result.manifest.to_pylist()[0]["transcription"] == "我有点担心"
    assert "GB18030" in " ".join(result.notes)


def test_utf16_transcriptions_with_bom_are_decoded(tmp_path):
    data = "name,chinese\na1,没想到\n".encode("utf-16")
    root = make_release(
        tmp_path, ["a1"], [], "name,discrete\na1,surprise\n", None, trans_bytes=data
    )
    assert ingest_release(root, 2).manifest.to_pylist()[0]["transcription"] == "没想到"


def test_undecodable_transcription_keeps_the_clip_with_empty_text(tmp_path):
    # 0x80 0xff is neither UTF-8 nor GB18030; the other row is valid UTF-8.
    data = "name,chinese\na1,好的\n".encode() + b"u1,\x80\xff\n"
    root = make_release(
        tmp_path, ["a1"], ["u1"], "name,discrete\na1,neutral\n", None, trans_bytes=data
    )
    result = ingest_release(root, 2)
    rows = {r["name"]: r for r in result.manifest.to_pylist()}
    assert rows["a1"]["transcription"] == "好的"
    assert rows["u1"]["transcription"] is None
    (finding,) = findings_by_name(result)["u1"]
    assert "neither UTF-8 nor GB18030" in finding["reason"] and not finding["excluded"]


def test_every_video_is_in_the_manifest_or_an_excluding_finding(tmp_path):
    root = make_release(
        tmp_path,
        ["a1", "a2", "both"],
        ["u1", "both"],
        "name,discrete\na1,happy\nghost,sad\nboth,angry\n",
        "name,chinese\nnobody,你好\n",
    )
    (root / "video-labeled" / "notes.txt").write_text("x")
    result = ingest_release(root, 2)
    found = findings_by_name(result)
    assert "no row in label-disdim.csv" in found["a2"][0]["reason"]
    assert "no video" in found["ghost"][0]["reason"]
    assert "kept only in the unlabelled pool" in found["both"][0]["reason"]
    assert "not an .mp4 file" in found["notes.txt"][0]["reason"]
    assert "no such clip" in found["nobody"][0]["reason"]
    manifest = {(r["split"], r["name"]) for r in result.manifest.to_pylist()}
    assert manifest == {("labeled", "a1"), ("unlabeled", "u1"), ("unlabeled", "both")}
    excluded = {(r["split"], r["name"]) for r in result.findings.to_pylist() if r["excluded"]}
    every_video = {("labeled", n) for n in ("a1", "a2", "both")} | {
        ("unlabeled", n) for n in ("u1", "both")
    }
    assert every_video <= manifest | excluded


def test_data_root_that_is_not_a_release_is_an_error(tmp_path):
    with pytest.raises(IngestError, match="data_root is not a folder"):
        ingest_release(tmp_path / "missing", 2)
    with pytest.raises(IngestError, match="is data_root a MER2024-layout folder"):
        ingest_release(tmp_path, 2)


def test_shard_clips_reads_exactly_the_columns_its_stage_digests():
    import pyarrow as pa

    from merlib.shards import SHARD_COLUMNS, shard_clips

    manifest = pa.table(
        {
            "name": ["a", "b", "c"],
            "shard": ["000", "001", "000"],
            "split": ["labeled", "unlabeled", "unlabeled"],
            "path": ["video-labeled/a.mp4", "x/b.mp4", "x/c.mp4"],
            "transcription": ["你好", "", "好"],
            "discrete": ["happy", None, None],
        }
    )
    media = shard_clips(manifest, "000", "media")
    assert media.column_names == ["name", "path"]
    assert media.column("name").to_pylist() == ["a", "c"]
    transcribe = shard_clips(manifest, "001", "transcribe")
    assert transcribe.to_pylist() == [{"name": "b", "split": "unlabeled", "transcription": ""}]
    # a label is never part of what a per-shard stage reads (so a correction reruns none)
    assert all("discrete" not in columns for columns in SHARD_COLUMNS.values())
