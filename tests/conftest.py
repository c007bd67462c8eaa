"""Shared test fixtures: the real media in ../shared/data, and clips made from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_helpers import config_args, demo_corpus, failed, make_release, snakemake, write_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
YUNET_ONNX = SHARED / "models" / "face_detection_yunet_2026may.onnx"


def require_shared() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_DATA} (a fresh clone without shared/)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require_shared()


@pytest.fixture
def one_torch_thread():
    """Torch on one intra-op thread for the test (tiny models: more threads only stall on a
    busy machine), restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_clip(out: Path, image: Path | None, audio: Path | None, seconds: float = 3.0) -> Path:
    """An H.264/AAC mp4 of a still image (or a grey frame) and a speech file (or none)."""
    from merlib.av.ffmpeg import ffmpeg_exe

    args = [ffmpeg_exe(), "-y", "-v", "error", "-nostdin"]
    if image is not None:
        args += ["-loop", "1", "-framerate", "10", "-i", str(image)]
    else:
        args += ["-f", "lavfi", "-i", "color=c=gray:s=320x240:r=10"]
    if audio is not None:
        args += ["-i", str(audio)]
    args += ["-t", str(seconds), "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2"]
    args += ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac"] if audio is not None else ["-an"]
    subprocess.run(args + [str(out)], check=True)
    return out


def make_audio_only_clip(out: Path, audio: Path) -> Path:
    """An AAC mp4 of a speech file with no video stream at all, as some of MER2024's
    unlabelled clips are."""
    from merlib.av.ffmpeg import ffmpeg_exe

    args = [ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-i", str(audio)]
    subprocess.run(args + ["-vn", "-c:a", "aac", str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory, shared_data) -> Path:
    """Real-media clips for media tests: one face, two faces, no face, no audio, no video
    stream (audio only), broken."""
    d = tmp_path_factory.mktemp("clips")
    speech = shared_data / "audio" / "librispeech" / "1688-142285-0000.flac"
    images = shared_data / "images"
    face = make_clip(d / "face.mp4", images / "obama.jpg", speech)
    make_clip(d / "two.mp4", images / "two_people.jpg", speech)
    make_clip(d / "noface.mp4", None, speech)
    make_clip(d / "noaudio.mp4", images / "biden.jpg", None)
    make_audio_only_clip(
        d / "novideo.mp4", shared_data / "audio" / "mandarin" / "thchs30_D4_750.wav"
    )
    data = face.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    return d


# --------------------------------------------------------------------------------------
# Scale-out e2e tests (tests/e2e/test_slurm.py, test_reruns_and_recovery.py,
# test_hostile_input.py): one small release cut from the demo corpus and one uninterrupted
# local run of it per session, which the SLURM, rerun and crash tests compare to. Kept
# here, not in tests/e2e/conftest.py: tests/ is on pytest's pythonpath, and the unit
# tests' `from conftest import ...` means this file.
# --------------------------------------------------------------------------------------
# Small enough for CI, large enough for 3-fold stratified cross validation.
PER_CLASS = 4
UNLABELLED = 8


@pytest.fixture(scope="session")
def built_demo_corpus(tmp_path_factory) -> Path:
    """The demo corpus, built once per session when no built one is found."""
    return demo_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def small_release(built_demo_corpus, tmp_path_factory) -> Path:
    release = tmp_path_factory.mktemp("release")
    return make_release(built_demo_corpus, release, PER_CLASS, UNLABELLED)


@pytest.fixture(scope="session")
def release_config(small_release, tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("config") / "release.yaml", small_release)


@pytest.fixture(scope="session")
def reference_run(release_config, tmp_path_factory) -> Path:
    """The small release run locally, uninterrupted: what every other run must equal."""
    workdir = tmp_path_factory.mktemp("reference")
    proc = snakemake(
        workdir, *config_args(release_config), "--workflow-profile", "none", "--cores", "2"
    )
    assert proc.returncode == 0, failed(proc)
    return workdir
