"""Which ffmpeg merflow runs: the pinned imageio-ffmpeg binary unless the user names one,
never an older ffmpeg that happens to be first on PATH (Debian 12's 5.1 lacks options
merflow uses), and a clear error when the one named or the only one found is too old.

Each case runs with a real old ffmpeg first on PATH when one is present (Debian's
``apt-get install ffmpeg``, or ``MERFLOW_TEST_OLD_FFMPEG`` naming one) and always with a
small fake ``ffmpeg`` that reports version 5.1 and knows no option.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import imageio_ffmpeg
import pytest

from merlib.av import ffmpeg as av_ffmpeg
from merlib.av.ffmpeg import MIN_VERSION, FfmpegError, ffmpeg_exe, ffmpeg_version, find_ffmpeg

PINNED = imageio_ffmpeg.get_ffmpeg_exe()


def fake_ffmpeg(folder: Path, banner: str) -> Path:
    """An executable ``ffmpeg`` in ``folder`` whose ``-version`` prints ``banner`` and
    which refuses everything else, as an old build refuses ``-display_rotation``."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "ffmpeg"
    exe.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = -version ] && { echo ' + repr(banner) + "; exit 0; }; done\n"
        "echo \"Unrecognized option '$1'.\" >&2\nexit 8\n"
    )
    exe.chmod(0o755)
    return exe


def real_old_ffmpeg() -> str | None:
    """An ffmpeg older than merflow needs, if this machine has one."""
    for candidate in (
        os.environ.get("MERFLOW_TEST_OLD_FFMPEG"),
        shutil.which("ffmpeg"),
        "/usr/bin/ffmpeg",
    ):
        if candidate and Path(candidate).is_file() and Path(candidate).resolve() != Path(PINNED):
            try:
                version, _ = ffmpeg_version(candidate)
            except FfmpegError:
                continue
            if version is not None and version < MIN_VERSION:
                return candidate
    return None


@pytest.fixture(params=["real", "fake"])
def old_on_path(request, tmp_path, monkeypatch) -> Path:
    """A folder first on PATH holding an ``ffmpeg`` older than merflow needs."""
    folder = tmp_path / "old-bin"
    if request.param == "real":
        real = real_old_ffmpeg()
        if real is None:
            pytest.skip("no ffmpeg older than merflow needs on this machine")
        folder.mkdir()
        (folder / "ffmpeg").symlink_to(Path(real).resolve())
    else:
        fake_ffmpeg(folder, "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024")
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MERFLOW_FFMPEG", raising=False)
    assert ffmpeg_version(shutil.which("ffmpeg"))[0] < MIN_VERSION
    return folder


def test_pinned_ffmpeg_is_preferred_to_an_older_one_first_on_path(old_on_path, caplog):
    with caplog.at_level(logging.INFO, logger="merlib.av.ffmpeg"):
        assert ffmpeg_exe() == PINNED
    assert ffmpeg_version(PINNED)[0] >= MIN_VERSION
    # the log says which binary and why
    assert any(PINNED in r.message and "pinned" in r.message for r in caplog.records)


def test_a_named_ffmpeg_that_is_too_old_is_a_clear_error(old_on_path, monkeypatch):
    monkeypatch.setenv("MERFLOW_FFMPEG", str(old_on_path / "ffmpeg"))
    with pytest.raises(
        FfmpegError, match=r"MERFLOW_FFMPEG=.* is ffmpeg 5\.1 .*needs ffmpeg >= 6\.0"
    ):
        ffmpeg_exe()


def test_a_named_ffmpeg_wins_over_the_pinned_one(tmp_path, monkeypatch):
    named = fake_ffmpeg(tmp_path / "mine", "ffmpeg version 7.1.1 Copyright (c) 2000-2025")
    monkeypatch.setenv("MERFLOW_FFMPEG", str(named))
    chosen = find_ffmpeg()
    assert (chosen.path, chosen.version) == (str(named), (7, 1))
    assert "MERFLOW_FFMPEG" in chosen.why


def test_without_the_wheel_an_old_ffmpeg_on_path_is_refused(old_on_path, monkeypatch):
    monkeypatch.setattr(av_ffmpeg, "_pinned", lambda: None)
    with pytest.raises(FfmpegError, match=r"on PATH .* is 5\.1 .*needs ffmpeg >= 6\.0"):
        find_ffmpeg()


def test_without_the_wheel_a_recent_ffmpeg_on_path_is_used(tmp_path, monkeypatch):
    recent = fake_ffmpeg(tmp_path / "bin", "ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023")
    monkeypatch.setenv("PATH", f"{recent.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MERFLOW_FFMPEG", raising=False)
    monkeypatch.setattr(av_ffmpeg, "_pinned", lambda: None)
    chosen = find_ffmpeg()
    assert (chosen.path, chosen.version) == (str(recent), (6, 1))


@pytest.mark.parametrize(
    "banner, version",
    [
        ("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024", (5, 1)),
        ("ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright", (9, 0)),
        ("ffmpeg version N-113461-g1b5e3fd Copyright", None),  # a git build: no release
    ],
)
def test_version_is_read_from_the_banner(tmp_path, banner, version):
    assert ffmpeg_version(str(fake_ffmpeg(tmp_path, banner))) == (version, banner)


def test_a_named_binary_that_is_not_ffmpeg_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MERFLOW_FFMPEG", str(tmp_path / "missing-ffmpeg"))
    with pytest.raises(FfmpegError, match="missing-ffmpeg.* does not run"):
        find_ffmpeg()
