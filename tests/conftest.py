"""Shared test fixtures: the real media in ../shared/data, and clips made from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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


def make_clip(out: Path, image: Path | None, audio: Path | None, seconds: float = 3.0) -> Path:
    """An H.264/AAC mp4 of a still image (or a grey frame) and a speech file (or none)."""
    from merlib.media import ffmpeg_exe

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


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory, shared_data) -> Path:
    """Real-media clips for media tests: one face, two faces, no face, no audio, broken."""
    d = tmp_path_factory.mktemp("clips")
    speech = shared_data / "audio" / "librispeech" / "1688-142285-0000.flac"
    images = shared_data / "images"
    face = make_clip(d / "face.mp4", images / "obama.jpg", speech)
    make_clip(d / "two.mp4", images / "two_people.jpg", speech)
    make_clip(d / "noface.mp4", None, speech)
    make_clip(d / "noaudio.mp4", images / "biden.jpg", None)
    data = face.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    return d
