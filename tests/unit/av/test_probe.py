"""merlib.av.probe: one answer to a file's duration and streams, which has_video_track
gives too (collection, apply and media ask the same question)."""

from __future__ import annotations

import pytest

from merlib.av.decode import has_video_track
from merlib.av.ffmpeg import run_ffmpeg
from merlib.av.probe import probe_video
from merlib.errors import VideoLoadingError


def _ffmpeg(*args: str) -> None:
    proc = run_ffmpeg(["-y", *args], timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe")
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(d / "cover.png"))
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1.5", "-c:a", "aac", str(d / "audio.m4a"))
    # an audio file with a cover picture: ffmpeg lists the picture as a video stream
    _ffmpeg(
        *("-f", "lavfi", "-i", "sine=f=440:d=1", "-i", str(d / "cover.png")),
        *("-map", "0", "-map", "1", "-c:a", "aac", "-c:v", "png"),
        *("-disposition:v", "attached_pic", str(d / "cover.m4a")),
    )
    _ffmpeg(
        *("-f", "lavfi", "-i", "testsrc=s=64x64:r=10:d=2", "-f", "lavfi", "-i", "sine=d=2"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"),
        str(d / "av.mp4"),
    )
    (d / "text.mp4").write_text("not a video\n")
    return d


def test_probe_reads_duration_and_streams(media):
    probe = probe_video(media / "av.mp4")
    assert probe.has_audio and probe.has_video
    assert probe.duration == pytest.approx(2.0, abs=0.1)
    audio = probe_video(media / "audio.m4a")
    assert audio.has_audio and not audio.has_video
    assert audio.duration == pytest.approx(1.5, abs=0.1)


def test_a_cover_picture_is_not_a_video_track(media):
    assert not probe_video(media / "cover.m4a").has_video
    assert not has_video_track(media / "cover.m4a")
    assert not has_video_track(media / "audio.m4a")
    assert has_video_track(media / "av.mp4")


def test_a_file_that_does_not_open_is_reported_by_its_decoder(media):
    with pytest.raises(VideoLoadingError, match="text.mp4: not a readable video"):
        probe_video(media / "text.mp4")
    with pytest.raises(VideoLoadingError, match="file does not exist"):
        probe_video(media / "missing.mp4")
    # has_video_track does not answer for it: the decoding step names the cause
    assert has_video_track(media / "text.mp4") and has_video_track(media / "missing.mp4")
