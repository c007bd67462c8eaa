import functools
import os
import sys
import urllib.parse
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

sys.path.insert(0, os.path.join(workflow.basedir, "workflow_scripts"))
from merlib.shards import shard_ids  # noqa: E402

SHARDS = shard_ids(config["shards"])
FEATURES = config["features"]
FUSION_FEATURES = config["fusion"]["features"]
DATA_ROOT = os.path.normpath(config["data_root"])
DEMO_ROOT = os.path.normpath(config["demo"]["root"])
RELEASE_CSVS = ("label-disdim.csv", "label-transcription.csv")
RELEASE_DIRS = ("video-labeled", "video-unlabeled-with-test2noise")

for _name in FUSION_FEATURES:
    if _name not in FEATURES:
        raise ValueError(
            f"fusion.features names {_name!r}, which is not a key of 'features' "
            f"(known: {', '.join(FEATURES)}). Please check your config."
        )


wildcard_constraints:
    shard=r"\d+",
    feature=r"[A-Za-z0-9_-]+",


def is_demo():
    """True when data_root is the demo corpus the workflow makes itself."""
    return DATA_ROOT == DEMO_ROOT


def get_release_inputs(wildcards=None):
    """The release files ingest reads; a clear error when data_root is not a release."""
    if is_demo():
        return {
            "labels": f"{DEMO_ROOT}/label-disdim.csv",
            "transcriptions": f"{DEMO_ROOT}/label-transcription.csv",
        }
    if not os.path.isdir(DATA_ROOT):
        raise ValueError(
            f"data_root {DATA_ROOT!r} is not a folder. Please point data_root at a "
            "MER2024-layout folder (video-labeled/, label-disdim.csv, ...)."
        )
    inputs = {}
    for key, name in zip(("labels", "transcriptions"), RELEASE_CSVS):
        path = os.path.join(DATA_ROOT, name)
        if not os.path.isfile(path):
            raise ValueError(
                f"No {name} found in data_root {DATA_ROOT!r}. Please check it."
            )
        inputs[key] = path
    # Folders as inputs: adding or removing a video changes their modification time.
    for key, name in zip(("labeled", "unlabeled"), RELEASE_DIRS):
        path = os.path.join(DATA_ROOT, name)
        if os.path.isdir(path):
            inputs[key] = path
    return inputs


def get_test_labels():
    """Labels of the unlabelled pool, when known (the demo corpus knows its own)."""
    path = config["evaluate"]["test_labels"]
    if path:
        return path
    if is_demo():
        return f"{DEMO_ROOT}/test-labels.csv"
    return []


def get_feature_files(feature):
    return expand(
        "results/features/{feature}/{shard}.parquet", feature=feature, shard=SHARDS
    )


def get_fusion_feature_files():
    """Feature name -> its shard files, for the features fusion uses."""
    return {name: get_feature_files(name) for name in FUSION_FEATURES}


def get_fusion_feature_reject_files():
    """Feature name -> its shard rejects files, for the features fusion uses."""
    return {
        name: expand(
            "results/feature_rejects/{feature}/{shard}.parquet",
            feature=name,
            shard=SHARDS,
        )
        for name in FUSION_FEATURES
    }


def get_feature_spec(wildcards):
    if wildcards.feature not in FEATURES:
        raise ValueError(
            f"No feature {wildcards.feature!r} in config 'features' "
            f"(known: {', '.join(FEATURES)})."
        )
    return FEATURES[wildcards.feature]


def get_final_outputs():
    return [
        "results/metrics/summary.json",
        "results/predictions/unlabelled.parquet",
        "results/submission/mer2024-semi-noise.csv",
        "results/metrics/accounting.parquet",
    ]


# --- collection (rules/collect.smk) -------------------------------------------------

COLLECT = config.get("collect", {})
COLLECT_ROOT = os.path.normpath(COLLECT.get("output_root", "results/collect/release"))
DEMO_EPISODES = os.path.join(DEMO_ROOT, "raw-episodes")


@functools.cache
def get_collect_videos():
    """Video id -> file name in collect.videos_dir ({} when collection is off); listed
    once per DAG build."""
    from merlib.collect import list_videos

    folder = COLLECT.get("videos_dir")
    if not folder:
        return {}
    folder = os.path.normpath(folder)
    if folder == DEMO_EPISODES and not os.path.isdir(folder):
        # the demo's episodes are made by make_demo_corpus; their names are known
        n = config["demo"]["episodes"]
        return {f"episode_{i:02d}": f"episode_{i:02d}.mp4" for i in range(1, n + 1)}
    return list_videos(folder)


def get_collect_video(wildcards):
    videos = get_collect_videos()
    if wildcards.video not in videos:
        raise ValueError(
            f"No video {wildcards.video!r} in collect.videos_dir "
            f"{COLLECT.get('videos_dir')!r}. Please check the folder."
        )
    return os.path.join(
        os.path.normpath(COLLECT["videos_dir"]), videos[wildcards.video]
    )


def get_cut_segments_inputs(wildcards):
    """The video, its subtitle file when there is one, and the demo corpus if it is that."""
    from merlib.collect import find_subtitle

    video = get_collect_video(wildcards)
    inputs = {"video": video}
    subtitle = find_subtitle(video)
    if subtitle is not None:
        inputs["subtitle"] = str(subtitle)
    if os.path.dirname(video) == DEMO_EPISODES:
        inputs["demo"] = f"{DEMO_EPISODES}/boundaries.csv"
    return inputs


def get_collect_params():
    """The collect settings the per-video steps use (no folders, no annotation)."""
    skip = ("videos_dir", "output_root", "annotation", "detector_sha256")
    params = {k: v for k, v in COLLECT.items() if k not in skip}
    model = COLLECT.get("detector_model")
    if model and "://" in model:
        params["detector_model"] = get_detector_model_path()
    return params


def get_detector_model_path():
    """Where a detector_model URL is fetched to (resources/models/<file name>)."""
    model = COLLECT.get("detector_model") or ""
    name = os.path.basename(urllib.parse.urlparse(model).path) if "://" in model else ""
    return "resources/models/" + (name or "face_detection_yunet.onnx")


def get_collect_asr():
    """ASR fallback settings for clips without subtitles (model null: off)."""
    return {
        "model": COLLECT.get("asr"),
        "language": COLLECT.get("language"),
        "cache_dir": "resources/models",
    }


def get_filter_clips_inputs(wildcards):
    inputs = {
        "video": get_collect_video(wildcards),
        "segments": f"results/collect/segments/{wildcards.video}.parquet",
    }
    model = COLLECT.get("detector_model")
    if COLLECT.get("detector") == "opencv" and model and "://" in model:
        inputs["model"] = get_detector_model_path()
    return inputs


def get_exported_clips():
    return expand(
        "results/collect/exported/{video}.parquet", video=sorted(get_collect_videos())
    )


def get_collect_outputs():
    """Collection targets of the default run: none while collect.videos_dir is null."""
    if not COLLECT.get("videos_dir"):
        return []
    outputs = ["results/collect/clips.parquet"]
    annotation = COLLECT.get("annotation", {})
    if annotation.get("predictions"):
        outputs.append("results/collect/annotation/selected.csv")
    if annotation.get("annotators"):
        outputs.append("results/collect/annotation/agreed.csv")
    return outputs
