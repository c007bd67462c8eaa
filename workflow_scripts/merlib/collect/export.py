"""Step 3, export (:func:`export_clips`): kept segments cut to H.264/AAC mp4, atomically;
the release CSVs and the clips table; fetching a checked detector model."""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..av.decode import decode_audio
from ..av.ffmpeg import ffmpeg_error, run_ffmpeg
from ..errors import AudioLoadingError, VideoLoadingError
from ..schemas import COLLECT_CLIPS, table_from_rows

log = logging.getLogger(__name__)


CLIPS_DIR = "video-unlabeled-with-test2noise"


def cut_clip(video_path: str | os.PathLike, start: float, end: float, out: Path, timeout: float):
    """[start, end) of ``video_path`` as H.264/AAC mp4 at ``out``, written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    args = ["-y", "-ss", f"{start:.3f}", "-i", str(video_path), "-t", f"{end - start:.3f}"]
    args += ["-map", "0:v:0", "-map", "0:a:0", "-c:v", "libx264", "-preset", "veryfast"]
    args += ["-crf", "20", "-pix_fmt", "yuv420p", "-threads", "1", "-c:a", "aac", "-b:a", "128k"]
    args += ["-map_metadata", "-1", "-movflags", "+faststart", str(tmp)]
    try:
        proc = run_ffmpeg(args, timeout)
        if proc.returncode != 0:
            raise VideoLoadingError(
                f"{video_path}: cutting {start:.3f}-{end:.3f} s failed ({ffmpeg_error(proc)})"
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def export_clips(
    video_path: str | os.PathLike,
    decisions: pa.Table,
    output_root: str | os.PathLike,
    timeout: float = 3600,
    transcribe: Callable[[np.ndarray], str] | None = None,
    workers: int = 1,
) -> pa.Table:
    """Cut every kept clip into ``output_root/video-unlabeled-with-test2noise/`` (``workers``
    single-threaded ffmpeg cuts at a time); a clip that fails to cut is not kept, with the
    reason. With ``transcribe`` (16 kHz int16 -> text, e.g.
    :class:`merlib.whisper.Transcriber`), a kept clip without subtitle text gets the
    transcription of its audio (one clip at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    root = Path(output_root)
    rows = decisions.to_pylist()

    def cut(row: dict) -> None:
        rel = f"{CLIPS_DIR}/{row['name']}.mp4"
        try:
            cut_clip(video_path, row["start"], row["end"], root / rel, timeout)
            row["clip"] = rel
        except (VideoLoadingError, subprocess.TimeoutExpired) as exc:
            row["kept"] = False
            row["reason"] = str(exc)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(cut, [row for row in rows if row["kept"]]))
    for row in rows:
        if row["kept"] and transcribe is not None and not row["text"]:
            try:
                row["text"] = transcribe(decode_audio(root / row["clip"], 16000, timeout))
            except (AudioLoadingError, subprocess.TimeoutExpired) as exc:
                row["kept"], row["clip"], row["reason"] = False, None, str(exc)
    return table_from_rows(rows, COLLECT_CLIPS)


def write_release_csvs(clips: pa.Table, output_root: str | os.PathLike) -> None:
    """``label-transcription.csv`` (kept clips' text) and an empty ``label-disdim.csv``
    (clips are unlabelled until annotated), so that ``output_root`` is a valid data_root."""
    root = Path(output_root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "video-labeled").mkdir(exist_ok=True)
    kept = sorted((r for r in clips.to_pylist() if r["kept"]), key=lambda r: r["name"])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "chinese"])
    for r in kept:
        writer.writerow([r["name"], r["text"] or ""])
    write_text(root / "label-transcription.csv", buffer.getvalue())
    write_text(root / "label-disdim.csv", "name,discrete\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def clips_table(parts: list[pa.Table]) -> pa.Table:
    """All videos' clip rows, sorted by video then start."""
    if not parts:
        return COLLECT_CLIPS.empty_table()
    table = pa.concat_tables(parts)
    return table.sort_by([("video", "ascending"), ("start", "ascending"), ("name", "ascending")])


def fetch_checked(url: str, sha256: str | None, out: str | os.PathLike) -> Path:
    """Download ``url`` (http, https or file) to ``out`` if its sha256 is ``sha256``."""
    import hashlib
    import urllib.request

    out = Path(out)
    if not sha256:
        raise ValueError(
            f"collect.detector_model is a URL ({url}) but collect.detector_sha256 is not set; "
            "please give the file's sha256 so that the download can be checked"
        )
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    found = hashlib.sha256(data).hexdigest()
    if found != sha256.lower():
        raise ValueError(f"{url}: sha256 is {found}, expected {sha256}; not saved")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out
