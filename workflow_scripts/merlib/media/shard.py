"""One shard of stage extract_media: its clips on worker threads, rows in clip order."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from ..faces.detection import ThreadDetectors
from ..progress import Progress
from ..schemas import AUDIO, FACES, MEDIA_REJECTS, table_from_rows
from .clip import clip_rows, decode_clip
from .params import MediaParams
from .paths import safe_clip_path


def extract_shard(
    clips: list[dict], data_root: str | os.PathLike, params: MediaParams, workers: int = 1
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(audio, faces, rejects) tables for manifest rows ``clips`` (dicts with name, path).

    Up to ``workers`` clips are processed at once, each whole in one worker thread: its
    ffmpeg decode (a subprocess), then detection and crops (OpenCV releases the GIL), with
    the thread's own detector, made once per thread. Rows come out in clip order, and at
    most ``2 * workers`` clips are in flight.
    """
    root = Path(data_root)
    # Made here first so that a missing model fails the shard before any clip is decoded.
    detectors = ThreadDetectors(params.detector, params.detector_model, params.detector_score)
    audio_rows, face_rows, reject_rows = [], [], []
    window = max(1, workers) * 2
    clips = list(clips)
    progress = Progress("media", len(clips))

    def process(name: str, path: Path):
        return clip_rows(decode_clip(name, path, params), params, detectors.get())

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque = deque()
        todo = iter(clips)
        while True:
            while len(pending) < window:
                clip = next(todo, None)
                if clip is None:
                    break
                path = safe_clip_path(root, clip["path"])
                pending.append(pool.submit(process, clip["name"], path))
            if not pending:
                break
            audio_row, faces, rejects = pending.popleft().result()
            if audio_row is not None:
                audio_rows.append(audio_row)
            face_rows.extend(faces)
            reject_rows.extend(rejects)
            progress.update()
    return (
        table_from_rows(audio_rows, AUDIO),
        table_from_rows(face_rows, FACES),
        table_from_rows(reject_rows, MEDIA_REJECTS),
    )
