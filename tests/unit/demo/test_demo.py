"""The synthetic demo corpus: layout, media, cues per emotion, determinism, atomic writes."""

from __future__ import annotations

import csv
import re
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from merlib.av.ffmpeg import ffmpeg_exe
from merlib.demo import corpus as corpus_module
from merlib.demo.corpus import make_demo_corpus
from merlib.demo.expressions import EXPRESSIONS, expression_field
from merlib.demo.planning import draw_cues, plan_clips
from merlib.demo.spec import FRAME_SIZE, LABELLED_DIR, UNLABELLED_DIR
from merlib.demo.speech import PROSODY, synthesize_batch
from merlib.demo.text import ENDINGS, PHRASES, make_sentence
from merlib.labels import LABELS

SEED = 11
SMALL = dict(clips_per_class=2, unlabelled_clips=3, episodes=1, workers=2, episode_min_s=20.0)
YUNET_ONNX = Path(__file__).resolve().parents[4] / "shared/models/face_detection_yunet_2026may.onnx"
SCRIPT = Path(__file__).resolve().parents[3] / "workflow_scripts/make_demo_corpus.py"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _ffmpeg() -> str:
    return ffmpeg_exe()


def probe(path: Path) -> dict:
    """Streams and duration of a media file, from ffmpeg's own report."""
    err = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    d = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    return {
        "duration": int(d[1]) * 3600 + int(d[2]) * 60 + float(d[3]) if d else None,
        "video": re.findall(r"Stream #\S+.*?: Video: (\w+).*?(yuv\w+)", err),
        "audio": re.findall(r"Stream #\S+.*?: Audio: (\w+)", err),
    }


def decode_audio(path: Path) -> np.ndarray:
    out = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.int16).astype(np.float32) / 32768.0


def decode_frames(path: Path, fps: float = 2.0) -> np.ndarray:
    size = FRAME_SIZE
    out = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(path), "-vf", f"fps={fps}"]
        + ["-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, size, size, 3)


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def clip_paths(root: Path) -> list[Path]:
    return sorted((root / LABELLED_DIR).glob("*.mp4")) + sorted(
        (root / UNLABELLED_DIR).glob("*.mp4")
    )


def median_f0(x: np.ndarray, sr: int = 16000) -> float:
    """Median pitch (Hz) of the voiced 40 ms frames, by autocorrelation."""
    frame, hop = int(0.04 * sr), int(0.01 * sr)
    lo, hi = sr // 400, sr // 60
    f0 = []
    for i in range(0, len(x) - frame, hop):
        w = x[i : i + frame].astype(np.float64)
        if np.sqrt(np.mean(w**2)) < 0.01:
            continue
        w = w - w.mean()
        ac = np.correlate(w, w, "full")[frame - 1 :]
        k = lo + int(np.argmax(ac[lo:hi]))
        if ac[k] > 0.3 * ac[0]:
            f0.append(sr / k)
    return float(np.median(f0))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


# --------------------------------------------------------------------------------------
# fixtures: one small corpus (and its twin from the same seed), made once
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "corpus"
    make_demo_corpus(root, seed=SEED, **SMALL)
    return root


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo_twin") / "corpus"
    make_demo_corpus(root, seed=SEED, **{**SMALL, "workers": 1})
    return root


# --------------------------------------------------------------------------------------
# layout and tables
# --------------------------------------------------------------------------------------


def test_corpus_has_the_mer2024_layout_and_nothing_else(corpus):
    assert sorted(p.name for p in corpus.iterdir()) == sorted(
        [
            "README.txt",
            "label-disdim.csv",
            "label-transcription.csv",
            "raw-episodes",
            "test-labels.csv",
            "video-labeled",
            "video-unlabeled-with-test2noise",
        ]
    )
    assert sorted(p.name for p in (corpus / "raw-episodes").iterdir()) == [
        "boundaries.csv",
        "episode_01.mp4",
        "episode_01.srt",
    ]
    readme = (corpus / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "not a benchmark" in readme
    assert not list(corpus.parent.glob(".corpus.*")), "temporary folders were left behind"


def test_label_tables_have_exact_columns_and_one_row_per_clip(corpus):
    columns, labelled = read_csv(corpus / "label-disdim.csv")
    assert columns == ["name", "discrete"]
    assert sorted(r["discrete"] for r in labelled) == sorted(list(LABELS) * 2)
    assert sorted(r["name"] for r in labelled) == sorted(
        p.stem for p in (corpus / LABELLED_DIR).glob("*.mp4")
    )

    columns, hidden = read_csv(corpus / "test-labels.csv")
    assert columns == ["name", "discrete"]
    assert len(hidden) == 3 and all(r["discrete"] in LABELS for r in hidden)
    assert sorted(r["name"] for r in hidden) == sorted(
        p.stem for p in (corpus / UNLABELLED_DIR).glob("*.mp4")
    )

    columns, texts = read_csv(corpus / "label-transcription.csv")
    assert columns == ["name", "chinese"]
    names = [r["name"] for r in labelled + hidden]
    assert sorted(r["name"] for r in texts) == sorted(names)
    assert all(re.search(r"[\u4e00-\u9fff]", r["chinese"]) for r in texts)


def test_names_and_row_order_carry_no_label_information(corpus):
    for table in ("label-disdim.csv", "test-labels.csv", "label-transcription.csv"):
        _, rows = read_csv(corpus / table)
        names = [r["name"] for r in rows]
        assert names == sorted(names), f"{table} is not sorted by name"
        for name in names:
            assert re.fullmatch(r"sample_\d{8}", name)
            assert not any(label in name for label in LABELS)


def test_unlabelled_pool_labels_are_balanced_and_names_never_collide():
    face_ids = ["f0", "f1", "f2"]
    plans = plan_clips(3, clips_per_class=5, unlabelled_clips=60, face_ids=face_ids)
    unlabelled = [p.label for p in plans if p.folder == UNLABELLED_DIR]
    assert {label: unlabelled.count(label) for label in LABELS} == dict.fromkeys(LABELS, 10)
    assert len({p.name for p in plans}) == len(plans) == 90


def test_different_seeds_give_different_plans():
    a = plan_clips(1, 3, 6, ["f0", "f1"])
    b = plan_clips(2, 3, 6, ["f0", "f1"])
    assert [p.name for p in a] != [p.name for p in b]
    assert [p.text for p in a] != [p.text for p in b]


# --------------------------------------------------------------------------------------
# media
# --------------------------------------------------------------------------------------


def test_every_clip_is_h264_and_aac_and_lasts_2_to_16_seconds(corpus):
    for path in clip_paths(corpus):
        info = probe(path)
        assert info["video"] == [("h264", "yuv420p")], path
        assert info["audio"] == ["aac"], path
        assert 2.0 <= info["duration"] <= 16.0, path
        audio = decode_audio(path)
        assert abs(audio.size / 16000 - info["duration"]) < 0.15, path


def test_every_clip_has_speech_energy_between_silences(corpus):
    for path in clip_paths(corpus):
        audio = decode_audio(path)
        windows = audio[: audio.size // 1600 * 1600].reshape(-1, 1600)  # 100 ms
        energy = np.sqrt(np.mean(windows**2, axis=1))
        assert energy.max() > 0.03, f"{path}: no speech energy"
        assert energy[0] < 0.01 and energy[-1] < 0.01, f"{path}: no leading/trailing silence"


def test_a_face_is_detected_in_most_sampled_frames(corpus):
    import yuface

    found = total = 0
    for path in clip_paths(corpus):
        for frame in decode_frames(path):
            scores, _boxes, _marks = yuface.detect(np.ascontiguousarray(frame))
            found += len(scores) > 0
            total += 1
    assert total > 20 and found / total >= 0.9


@pytest.mark.skipif(not YUNET_ONNX.exists(), reason="no YuNet ONNX in ../shared/models")
def test_opencv_yunet_detects_a_face_in_most_sampled_frames(corpus):
    import cv2

    size = FRAME_SIZE
    detector = cv2.FaceDetectorYN.create(str(YUNET_ONNX), "", (size, size), 0.6)
    found = total = 0
    for path in clip_paths(corpus):
        for frame in decode_frames(path, fps=1.0):
            found += detector.detect(frame)[1] is not None
            total += 1
    assert found / total >= 0.9


# --------------------------------------------------------------------------------------
# episodes
# --------------------------------------------------------------------------------------


def _srt_cues(path: Path) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for i, block in enumerate(path.read_text(encoding="utf-8").strip().split("\n\n"), start=1):
        index, times, text = block.split("\n")
        assert int(index) == i
        start, end = times.split(" --> ")
        cues.append((seconds(start), seconds(end), text))
    return cues


def test_episode_boundaries_agree_with_duration_speakers_and_subtitles(corpus):
    columns, rows = read_csv(corpus / "raw-episodes/boundaries.csv")
    assert columns == ["video", "start", "end", "speaker", "face", "discrete", "text"]
    assert {r["video"] for r in rows} == {"episode_01"}
    duration = probe(corpus / "raw-episodes/episode_01.mp4")["duration"]
    assert duration >= SMALL["episode_min_s"]
    starts = [float(r["start"]) for r in rows]
    ends = [float(r["end"]) for r in rows]
    assert all(0 <= s < e <= duration for s, e in zip(starts, ends, strict=True))
    assert all(e < s for e, s in zip(ends, starts[1:], strict=False)), "segments overlap"
    speakers = [r["speaker"] for r in rows]
    assert all(a != b for a, b in zip(speakers, speakers[1:], strict=False))
    assert len(set(speakers)) >= 2
    face_of = {}
    for r in rows:
        assert face_of.setdefault(r["speaker"], r["face"]) == r["face"]
    assert len(set(face_of.values())) == len(face_of), "two speakers share a face"
    assert all(r["discrete"] in LABELS for r in rows)

    cues = _srt_cues(corpus / "raw-episodes/episode_01.srt")
    assert [(c[0], c[1], c[2]) for c in cues] == [
        (float(r["start"]), float(r["end"]), r["text"]) for r in rows
    ]


def test_episode_audio_is_speech_inside_boundaries_and_silent_between(corpus):
    _, rows = read_csv(corpus / "raw-episodes/boundaries.csv")
    audio = decode_audio(corpus / "raw-episodes/episode_01.mp4")
    sr = 16000
    for r in rows:
        s, e = float(r["start"]), float(r["end"])
        assert rms(audio[int(s * sr) : int(e * sr)]) > 0.02
    for before, after in zip(rows, rows[1:], strict=False):
        gap = audio[
            int((float(before["end"]) + 0.1) * sr) : int((float(after["start"]) - 0.1) * sr)
        ]
        assert gap.size > 0 and rms(gap) < 0.005


# --------------------------------------------------------------------------------------
# determinism and atomic writes
# --------------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_decoded_audio(corpus, twin):
    for table in (
        "label-disdim.csv",
        "test-labels.csv",
        "label-transcription.csv",
        "raw-episodes/boundaries.csv",
        "raw-episodes/episode_01.srt",
    ):
        assert (corpus / table).read_bytes() == (twin / table).read_bytes(), table
    media = clip_paths(corpus) + [corpus / "raw-episodes/episode_01.mp4"]
    for path in media:
        other = twin / path.relative_to(corpus)
        assert np.array_equal(decode_audio(path), decode_audio(other)), path


def test_same_seed_gives_byte_identical_mp4_files_with_the_same_ffmpeg(corpus, twin):
    media = clip_paths(corpus) + [corpus / "raw-episodes/episode_01.mp4"]
    for path in media:
        assert path.read_bytes() == (twin / path.relative_to(corpus)).read_bytes(), path


def test_failed_build_keeps_the_previous_corpus_and_leaves_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "label-disdim.csv").write_text("name,discrete\nold,happy\n")

    def broken_build(root, *args):
        (root / "label-disdim.csv").write_text("half")
        raise RuntimeError("killed")

    monkeypatch.setattr(corpus_module, "_build", broken_build)
    with pytest.raises(RuntimeError, match="killed"):
        make_demo_corpus(out)
    assert (out / "label-disdim.csv").read_text() == "name,discrete\nold,happy\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_existing_corpus_and_leftovers_of_killed_runs_are_replaced(tmp_path, monkeypatch):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "stale.txt").write_text("from an older corpus")
    (tmp_path / ".demo.tmp-999999").mkdir()  # left by a killed run

    def build(root, *args):
        (root / "label-disdim.csv").write_text("name,discrete\n")

    monkeypatch.setattr(corpus_module, "_build", build)
    make_demo_corpus(out)
    assert not (out / "stale.txt").exists()
    assert (out / "label-disdim.csv").exists() and (out / "README.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


@pytest.mark.parametrize(
    "kwargs", [dict(clips_per_class=0), dict(unlabelled_clips=-1), dict(episodes=-1)]
)
def test_invalid_counts_raise_before_anything_is_written(tmp_path, kwargs):
    with pytest.raises(ValueError, match="clips_per_class"):
        make_demo_corpus(tmp_path / "demo", **kwargs)
    assert not list(tmp_path.iterdir())


def test_snakemake_script_passes_params_and_writes_the_log(tmp_path):
    root = tmp_path / "resources/demo"
    log = tmp_path / "logs/make_demo_corpus.log"
    log.parent.mkdir(parents=True)
    snakemake = SimpleNamespace(
        output=SimpleNamespace(labels=str(root / "label-disdim.csv")),
        params=SimpleNamespace(seed=5, clips_per_class=1, unlabelled_clips=2, episodes=0),
        log=[str(log)],
        threads=2,
    )
    stderr = sys.stderr
    try:
        runpy.run_path(str(SCRIPT), init_globals={"snakemake": snakemake})
    finally:
        if sys.stderr is not stderr:
            sys.stderr.close()
        sys.stderr = stderr
    _, labelled = read_csv(root / "label-disdim.csv")
    _, hidden = read_csv(root / "test-labels.csv")
    assert len(labelled) == 6 and len(hidden) == 2
    assert "wrote" in log.read_text()


# --------------------------------------------------------------------------------------
# the cues: text, prosody, face
# --------------------------------------------------------------------------------------


def test_each_emotion_has_its_own_prosody_expression_and_phrases():
    prosodies = [PROSODY[label] for label in LABELS]
    assert len(set(prosodies)) == len(LABELS)
    expressions = [tuple(sorted(EXPRESSIONS[label].items())) for label in LABELS]
    assert len(set(expressions)) == len(LABELS)
    assert EXPRESSIONS["neutral"] == {}
    banks = [set(PHRASES[label]) for label in LABELS]
    for i, a in enumerate(banks):
        for b in banks[i + 1 :]:
            assert not a & b
    p = PROSODY
    assert p["angry"].rate > p["neutral"].rate > p["sad"].rate
    assert p["angry"].volume > p["neutral"].volume > p["sad"].volume
    assert p["surprise"].pitch == max(x.pitch for x in prosodies)
    assert p["sad"].pitch == min(x.pitch for x in prosodies)
    assert p["worried"].range < p["neutral"].range < p["surprise"].range


@pytest.mark.parametrize("label", LABELS)
def test_sentences_carry_their_emotion_in_the_wording(label):
    rng = np.random.default_rng(0)
    emotional = [x for lab in LABELS if lab != "neutral" for x in PHRASES[lab]]
    for n_emotion in (1, 2):
        sentence = make_sentence(label, rng, n_emotion)
        if label == "neutral":
            assert not any(phrase in sentence for phrase in emotional)
        else:
            assert any(phrase in sentence for phrase in PHRASES[label])
        assert sentence.endswith(ENDINGS[label])


def test_about_a_quarter_of_emotional_clips_have_one_uninformative_modality():
    rng = np.random.default_rng(0)
    n = 4000
    dropped = []
    for _ in range(n):
        cues = draw_cues("angry", rng)
        neutral = [cues.text_label, cues.prosody_label, cues.expression].count("neutral")
        assert neutral <= 1
        dropped.append(neutral)
    assert 0.22 < np.mean(dropped) < 0.28
    neutral_cues = draw_cues("neutral", rng)
    assert {neutral_cues.text_label, neutral_cues.prosody_label, neutral_cues.expression} == {
        "neutral"
    }


def test_angry_speech_is_higher_louder_and_faster_than_sad_speech():
    text = "我刚从公司回来，今天下午三点开会。"
    speech = synthesize_batch(
        [(text, "cmn", PROSODY[label]) for label in ("angry", "sad", "surprise", "neutral")]
    )
    angry, sad, surprise, neutral = speech
    assert median_f0(angry) > 1.2 * median_f0(sad)
    assert rms(angry) > 2 * rms(sad)
    assert angry.size < 0.7 * sad.size
    assert median_f0(surprise) > median_f0(neutral)


def test_synthesize_batch_is_reproducible():
    requests = [("真的吗，没想到？", "cmn+f2", PROSODY["surprise"])] * 2
    first = synthesize_batch(requests)
    second = synthesize_batch(requests)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a, b)


# A frontal face: eyes, nose tip, mouth corners (x, y), 56 px between the eyes.
LANDMARKS = np.array([[100, 100], [156, 100], [128, 130], [106, 160], [150, 160]], np.float32)
IOD = 56.0


def _move(field: np.ndarray, x: float, y: float) -> np.ndarray:
    return field[int(round(y)), int(round(x))] / IOD  # (dx, dy) in face units, y down


def test_expressions_move_mouth_and_brows_the_designed_way():
    fields = {label: expression_field(LANDMARKS, label) for label in LABELS}
    left_corner, right_corner = LANDMARKS[3], LANDMARKS[4]
    brow_inner_left = LANDMARKS[0] + IOD * np.array([0.18, -0.38])
    lower_lip = (LANDMARKS[3] + LANDMARKS[4]) / 2 + IOD * np.array([0.0, 0.08])

    assert not fields["neutral"].any()
    for corner in (left_corner, right_corner):
        assert _move(fields["happy"], *corner)[1] < -0.1  # corners up
        assert _move(fields["sad"], *corner)[1] > 0.1  # corners down
    assert _move(fields["surprise"], *lower_lip)[1] > 0.15  # jaw drops
    assert _move(fields["surprise"], *brow_inner_left)[1] < -0.1  # brows up
    dx, dy = _move(fields["angry"], *brow_inner_left)
    assert dy > 0.1 and dx > 0.05  # inner brow down and towards the midline
    dx, dy = _move(fields["worried"], *brow_inner_left)
    assert dy < -0.1 and dx > 0.0  # inner brow up and in
    assert abs(_move(fields["worried"], *lower_lip)[1]) < 0.05  # mouth stays closed


def test_expression_intensity_scales_the_displacement():
    full = expression_field(LANDMARKS, "happy", 1.0)
    half = expression_field(LANDMARKS, "happy", 0.5)
    np.testing.assert_allclose(half, 0.5 * full, atol=1e-6)
