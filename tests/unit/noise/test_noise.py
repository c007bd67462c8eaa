"""MER-NOISE on real media: SNR draws and mixing, blur, noisy clips, rejects, robustness."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import make_clip

from merlib.av.decode import decode_audio, has_video_track
from merlib.av.wav import read_wav, write_wav
from merlib.labels import LABELS, PROB_COLUMNS
from merlib.noise.blur import blur_frame
from merlib.noise.corpus import NoiseCorpus, find_noise_files, load_noise
from merlib.noise.draws import clip_seed, draw_clip, noise_segment
from merlib.noise.errors import NoiseCorpusError, NoiseFileError, SilentClipError, SilentNoiseError
from merlib.noise.manifest import noisy_manifest
from merlib.noise.mixing import measured_snr_db, mix_at_snr
from merlib.noise.params import NoiseParams
from merlib.noise.robustness import robustness
from merlib.noise.shard import inject_shard
from merlib.schemas import MANIFEST, NOISE, NOISE_REJECTS, PREDICTIONS, table_from_rows


@pytest.fixture(scope="module")
def librispeech(shared_data):
    return shared_data / "audio" / "librispeech"


@pytest.fixture(scope="module")
def corpus(librispeech):
    return NoiseCorpus.open(librispeech)


@pytest.fixture(scope="module")
def speech(librispeech):
    """Two different real utterances, 16 kHz mono int16, cut to the same length."""
    a = decode_audio(librispeech / "1688-142285-0000.flac")
    b = decode_audio(librispeech / "2414-128291-0000.flac")
    n = min(a.size, b.size)
    return a[:n], b[:n]


# --- the noise corpus ---------------------------------------------------------------------


def test_missing_noise_folder_raises_naming_it(tmp_path):
    with pytest.raises(NoiseCorpusError, match=r"nowhere.*is not a folder"):
        find_noise_files(tmp_path / "nowhere")


def test_noise_folder_without_audio_raises_naming_it(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("no audio here")
    with pytest.raises(NoiseCorpusError, match=rf"{tmp_path}.*holds no audio file"):
        find_noise_files(tmp_path)


def test_noise_files_are_found_recursively_in_a_stable_order(tmp_path, librispeech):
    for i, src in enumerate(sorted(librispeech.glob("*.flac"))[:3]):
        (tmp_path / f"speaker{2 - i}").mkdir()
        shutil.copy(src, tmp_path / f"speaker{2 - i}" / src.name)
    found = find_noise_files(tmp_path)
    rel = [p.relative_to(tmp_path).as_posix() for p in found]
    assert len(rel) == 3 and rel == sorted(rel)


def test_undecodable_noise_file_raises_naming_it(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF but not really a wav file")
    with pytest.raises(NoiseFileError, match=r"bad\.wav does not decode"):
        load_noise(bad)


# --- draws -----------------------------------------------------------------------------------


def test_clip_seed_depends_only_on_the_config_seed_and_the_name():
    assert clip_seed(2024, "a") == clip_seed(2024, "a")
    assert clip_seed(2024, "a") != clip_seed(2024, "b")
    assert clip_seed(2024, "a") != clip_seed(2025, "a")
    assert 0 <= clip_seed(2024, "a") < 2**63


def test_snr_is_an_integer_drawn_uniformly_within_both_bounds():
    params = NoiseParams(snr_db=(5, 10), blur_factors=(1, 2, 4))
    draws = [draw_clip(f"clip{i}", params)[0] for i in range(600)]
    snrs = np.array([d.snr_db for d in draws])
    assert set(snrs) == set(range(5, 11))
    counts = np.bincount(snrs)[5:]
    assert counts.min() > 60  # 100 expected per value
    assert {d.blur_factor for d in draws} == {1, 2, 4}


def test_noise_params_reject_reversed_bounds_and_non_power_of_two_factors():
    with pytest.raises(ValueError, match="min <= max"):
        NoiseParams(snr_db=(10, 5))
    with pytest.raises(ValueError, match="powers of two"):
        NoiseParams(blur_factors=(3,))


def test_noise_is_files_concatenated_in_random_order_until_longer_then_cropped():
    files = [np.arange(k * 1000, k * 1000 + 300, dtype=np.int16) for k in range(5)]
    rng = np.random.default_rng(3)
    segment, used, offset = noise_segment(rng, 5, 700, lambda i: files[i])
    assert segment.size == 700
    assert len(used) == len(set(used)) == 3  # 900 > 700 after three files
    joined = np.concatenate([files[i] for i in used])
    assert np.array_equal(segment, joined[offset : offset + 700])
    assert used != sorted(used) or used[0] != 0  # not simply the folder order


def test_noise_segment_goes_round_again_when_all_files_are_too_short():
    files = [np.full(100, k + 1, dtype=np.int16) for k in range(3)]
    segment, used, _ = noise_segment(np.random.default_rng(0), 3, 500, lambda i: files[i])
    assert segment.size == 500 and len(used) == 6
    assert sorted(used[:3]) == [0, 1, 2]


# --- mixing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("snr", [5, 7, 10])
def test_mix_has_the_drawn_snr(speech, snr):
    clean, other = speech
    mix = mix_at_snr(clean, other, snr)
    assert mix.audio.dtype == np.int16 and mix.audio.shape == clean.shape
    assert not mix.rescaled and mix.mix_scale == 1.0
    assert abs(measured_snr_db(clean, mix.audio) - snr) < 0.01


def test_overflowing_mix_is_rescaled_as_a_whole_and_flagged(speech):
    clean, other = speech
    loud = (clean.astype(np.float64) * 30000 / np.abs(clean).max()).astype(np.int16)
    mix = mix_at_snr(loud, other, 5)
    assert mix.rescaled and 0 < mix.mix_scale < 1
    assert np.abs(mix.audio.astype(np.int32)).max() <= 32767
    # the SNR holds for the rescaled clean signal, not for the clean file
    assert abs(measured_snr_db(loud, mix.audio, mix.mix_scale) - 5) < 0.01
    assert abs(measured_snr_db(loud, mix.audio) - 5) > 0.1


def test_silent_clip_raises_instead_of_dividing_by_zero(speech):
    _, other = speech
    with pytest.raises(SilentClipError, match="silent"):
        mix_at_snr(np.zeros_like(other), other, 5, what="x.mp4")


def test_silent_noise_segment_raises(speech):
    clean, _ = speech
    with pytest.raises(SilentNoiseError, match="noise segment drawn is silent"):
        mix_at_snr(clean, np.zeros_like(clean), 5)


# --- blur ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo(shared_data):
    return cv2.imread(str(shared_data / "images" / "obama.jpg"))


def test_blur_factor_one_leaves_the_frame_as_it_is(photo):
    assert blur_frame(photo, 1) is photo


@pytest.mark.parametrize("factor, levels", [(2, 1), (4, 2)])
def test_blur_is_repeated_pyrdown_then_pyrup_at_the_original_size(photo, factor, levels):
    odd = photo[:301, :199]  # odd sides must come back exactly
    expected = odd
    for _ in range(levels):
        expected = cv2.pyrDown(expected)
    for _ in range(levels):
        expected = cv2.pyrUp(expected)
    blurred = blur_frame(odd, factor)
    assert blurred.shape == odd.shape and blurred.dtype == np.uint8
    if expected.shape == odd.shape:
        assert np.array_equal(blurred, expected)
    sharpness = [cv2.Laplacian(x, cv2.CV_64F).var() for x in (odd, blurred)]
    assert sharpness[1] < sharpness[0] / 2


def test_stronger_blur_removes_more_detail(photo):
    sharpness = [cv2.Laplacian(blur_frame(photo, f), cv2.CV_64F).var() for f in (1, 2, 4)]
    assert sharpness[0] > sharpness[1] > sharpness[2]


# --- noisy clips -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory, shared_data, clip_dir):
    """A tiny release folder: two good clips, broken ones, a silent one and a short one."""
    root = tmp_path_factory.mktemp("release")
    images, speech = shared_data / "images", shared_data / "audio" / "librispeech"
    make_clip(root / "a.mp4", images / "obama.jpg", speech / "3080-5032-0000.flac", 2.0)
    make_clip(root / "b.mp4", images / "biden.jpg", speech / "1688-142285-0001.flac", 1.5)
    silence = root / "silence.wav"
    write_wav(silence, np.zeros(32000, dtype=np.int16), 16000)
    make_clip(root / "silent.mp4", images / "obama2.jpg", silence, 1.0)
    make_clip(root / "short.mp4", images / "obama2.jpg", speech / "3080-5032-0001.flac", 0.05)
    for name in ("noaudio", "novideo", "truncated", "empty", "text"):
        shutil.copy(clip_dir / f"{name}.mp4", root / f"{name}.mp4")
    return root


def clips(*names):
    return [{"name": n, "path": f"{n}.mp4"} for n in names]


@pytest.fixture(scope="module")
def shard_run(tmp_path_factory, release, corpus):
    out = tmp_path_factory.mktemp("noisy")
    names = ("a", "noaudio", "b", "novideo", "truncated", "empty", "text", "silent", "short")
    table, rejects, timings = inject_shard(
        clips(*names), release, out, corpus, NoiseParams(), workers=2
    )
    return out, table, rejects, timings


def test_every_clip_is_either_noisy_or_rejected_with_its_reason(shard_run):
    out, table, rejects, _ = shard_run
    assert table.schema.equals(NOISE) and rejects.schema.equals(NOISE_REJECTS)
    assert table.column("name").to_pylist() == ["a", "b", "novideo"]
    reasons = dict(zip(*rejects.to_pydict().values(), strict=True))
    assert set(reasons) == {"noaudio", "truncated", "empty", "text", "silent", "short"}
    assert "no audio track" in reasons["noaudio"]
    assert "file is empty" in reasons["empty"]
    assert "silent (RMS 0)" in reasons["silent"] and "silent.mp4" in reasons["silent"]
    assert "shorter than 0.1 s" in reasons["short"]
    written = {p.stem for p in out.rglob("*") if p.is_file()}
    assert written == {
        "a",
        "b",
        "novideo",
    }  # nothing, not even a temporary file, for rejected clips


def test_noisy_clip_keeps_fps_frames_and_audio_length(shard_run, release):
    _, table, _, _ = shard_run
    for row in table.to_pylist():
        if row["name"] == "novideo":
            continue  # audio only: test_clip_without_video_stream_gets_noisy_audio_only
        clean_cap = cv2.VideoCapture(str(release / f"{row['name']}.mp4"))
        noisy_cap = cv2.VideoCapture(row["video"])
        for prop in (cv2.CAP_PROP_FPS, cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH):
            assert noisy_cap.get(prop) == clean_cap.get(prop)
        assert row["n_frames"] == clean_cap.get(cv2.CAP_PROP_FRAME_COUNT)
        clean, rate_c = read_wav(row["clean_audio"])
        noisy, rate_n = read_wav(row["noisy_audio"])
        assert rate_c == rate_n == 16000 and clean.size == noisy.size
        assert np.array_equal(clean, decode_audio(release / f"{row['name']}.mp4"))
        assert abs(measured_snr_db(clean, noisy, row["mix_scale"]) - row["snr_db"]) < 0.1
        muxed = decode_audio(row["video"])
        assert abs(muxed.size - noisy.size) < 0.05 * 16000
        assert row["noise_files"] and all(f.endswith(".flac") for f in row["noise_files"])


def test_clip_without_video_stream_gets_noisy_audio_only(shard_run, release):
    _, table, _, _ = shard_run
    row = next(r for r in table.to_pylist() if r["name"] == "novideo")
    assert row["n_frames"] == 0 and row["fps"] is None
    clean, _ = read_wav(row["clean_audio"])
    noisy, _ = read_wav(row["noisy_audio"])
    assert np.array_equal(clean, decode_audio(release / "novideo.mp4"))
    assert abs(measured_snr_db(clean, noisy, row["mix_scale"]) - row["snr_db"]) < 0.1
    assert abs(decode_audio(row["video"]).size - noisy.size) < 0.05 * 16000
    assert not has_video_track(row["video"])  # still audio only, as the clean clip


def test_noisy_clips_are_bit_identical_whatever_the_grouping_and_workers(
    shard_run, tmp_path, release, corpus
):
    out, table, _, _ = shard_run
    again, _, _ = inject_shard(
        clips("b"), release, tmp_path, NoiseCorpus.open(corpus.root), NoiseParams()
    )
    row = again.to_pylist()[0]
    first = next(r for r in table.to_pylist() if r["name"] == "b")
    for key in ("video", "clean_audio", "noisy_audio"):
        with open(row[key], "rb") as f1, open(first[key], "rb") as f2:
            assert f1.read() == f2.read(), key
    same = ("snr_db", "blur_factor", "seed", "noise_files", "noise_offset", "gain")
    assert {k: row[k] for k in same} == {k: first[k] for k in same}


def test_another_noise_seed_gives_other_draws():
    params = [NoiseParams(seed=s) for s in (1, 2, 3, 4)]
    draws = {(draw_clip("a", p)[0].snr_db, draw_clip("a", p)[0].seed) for p in params}
    assert len(draws) == 4


def test_broken_noise_file_stops_the_shard_naming_the_file(tmp_path, release):
    musan = tmp_path / "musan"
    musan.mkdir()
    (musan / "broken.wav").write_bytes(b"\x00" * 64)
    corpus = NoiseCorpus.open(musan)
    with pytest.raises(NoiseFileError, match=r"broken\.wav does not decode"):
        inject_shard(clips("a"), release, tmp_path / "out", corpus, NoiseParams())
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*.mp4"))


def test_timings_split_decode_processing_and_encoding(shard_run):
    _, _, _, timings = shard_run
    assert timings.decode > 0 and timings.process > 0 and timings.encode > 0


# --- noisy manifest and robustness -------------------------------------------------------


def test_noisy_manifest_points_at_the_noisy_clips(tmp_path):
    manifest = table_from_rows(
        [
            {"name": n, "split": "unlabeled", "path": f"v/{n}.mp4", "shard": "000"}
            | {"transcription": "t"}
            for n in ("a", "b", "c")
        ],
        MANIFEST,
    )
    rows = [{"name": n, "video": f"results/noise/clips/000/video/{n}.mp4"} for n in ("a", "c")]
    table = pd.DataFrame(rows)
    out = noisy_manifest(manifest, pa.Table.from_pandas(table), "results/noise/clips")
    assert out.column("name").to_pylist() == ["a", "c"]
    assert out.column("path").to_pylist() == ["000/video/a.mp4", "000/video/c.mp4"]
    assert out.column("transcription").to_pylist() == ["t", "t"]


def predictions(labels: dict[str, str]):
    rows = []
    for name, label in labels.items():
        probs = [1.0 if lab == label else 0.0 for lab in LABELS]
        rows.append({"name": name} | dict(zip(PROB_COLUMNS, probs, strict=True)))
        rows[-1]["discrete"] = label
    return table_from_rows(rows, PREDICTIONS)


def test_robustness_scores_clean_and_noisy_overall_and_per_draw():
    names = [f"c{i}" for i in range(6)]
    truth = dict(zip(names, LABELS, strict=True))
    clean = predictions(truth)  # all right
    wrong = {n: LABELS[(i + 1) % 6] for i, n in enumerate(names)}
    noisy = predictions({n: (wrong[n] if i < 3 else truth[n]) for i, n in enumerate(names)})
    drawn = pd.DataFrame(
        {"name": names, "snr_db": [5, 5, 5, 10, 10, 10], "blur_factor": [1, 2, 4, 1, 2, 4]}
    )
    labels = pd.DataFrame({"name": names + ["other"], "discrete": list(LABELS) + ["sad"]})
    summary, table = robustness(clean, noisy, pa.Table.from_pandas(drawn), labels)
    assert summary["all"]["acc_clean"] == 1.0 and summary["all"]["acc_noisy"] == 0.5
    assert summary["by_snr_db"]["5"]["acc_noisy"] == 0.0
    assert summary["by_snr_db"]["10"]["waf_noisy"] == 1.0
    assert summary["by_blur_factor"]["2"]["n_clips"] == 2
    assert summary["all"]["waf_drop"] == pytest.approx(1.0 - summary["all"]["waf_noisy"])
    assert table.num_rows == 1 + 2 + 3


def test_robustness_counts_a_clip_without_video_under_no_blur():
    names = ["c0", "c1", "c2"]
    truth = dict(zip(names, LABELS[:3], strict=True))
    drawn = pd.DataFrame(
        {"name": names, "snr_db": [5, 5, 10], "blur_factor": [2, 2, 2], "n_frames": [75, 0, 75]}
    )
    labels = pd.DataFrame({"name": names, "discrete": list(truth.values())})
    summary, table = robustness(
        predictions(truth), predictions(truth), pa.Table.from_pandas(drawn), labels
    )
    assert {k: v["n_clips"] for k, v in summary["by_blur_factor"].items()} == {"2": 2, "none": 1}
    blur = [r["value"] for r in table.to_pylist() if r["group"] == "blur_factor"]
    assert blur == ["2", "none"]
