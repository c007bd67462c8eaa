# Input functions and settings of rules/apply.smk (the target `apply`, off the default
# path): included after rules/common.smk, whose helpers they use. docs/apply.md.
from merlib.apply.card import check_features, read_card  # noqa: E402
from merlib.apply.windows import read_shards, window_digests  # noqa: E402

APPLY = config["apply"]
APPLY_MODEL_DIR = os.path.normpath(APPLY["model_dir"] or "results")
APPLY_MODEL = f"{APPLY_MODEL_DIR}/fusion/model.pt"
APPLY_CARD = f"{APPLY_MODEL_DIR}/fusion/model_card.json"
APPLY_SHARD_PATTERN = r"w\d+(-\d+)?"  # merlib.apply.windows.shard_id


@functools.cache
def get_apply_videos():
    """Video id -> path under apply.videos_dir ({} when apply is off); listed once."""
    return config_videos(APPLY["videos_dir"], "apply.videos_dir")


def get_apply_features():
    """The features applied: the model card's when it exists (another run's model, or
    this one's already trained), else fusion.features (the model is trained first). Each
    must be configured with the options the card names: a difference stops snakemake
    before any job, with one message and no traceback."""
    if APPLY["model_dir"] and not os.path.isfile(APPLY_CARD):
        raise SystemExit(
            f"Config error: apply.model_dir {APPLY['model_dir']!r}: no model card {APPLY_CARD}. Please "
            "point it at a merflow results folder with fusion/model.pt and "
            "fusion/model_card.json (written by train_fusion)."
        )
    if not os.path.isfile(APPLY_CARD):
        return list(FUSION_FEATURES)
    card = read_card(APPLY_CARD)
    names = [f["name"] for f in card["features"]]
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise SystemExit(
            f"Config error: {APPLY_CARD}: the model needs feature(s) {', '.join(unknown)}, which config "
            f"'features' does not define (known: {', '.join(FEATURES)})."
        )
    try:
        check_features(card, names, {n: FEATURES[n] for n in names}, where=APPLY_CARD)
    except ValueError as error:
        raise SystemExit(f"Config error: {error}") from None
    return names


APPLY_FEATURES = get_apply_features() if APPLY["videos_dir"] else []


def get_apply_video(wildcards):
    videos = get_apply_videos()
    if wildcards.video not in videos:
        raise ValueError(
            f"No video {wildcards.video!r} in apply.videos_dir {APPLY['videos_dir']!r}."
        )
    return os.path.join(os.path.normpath(APPLY["videos_dir"]), videos[wildcards.video])


def get_segment_apply_inputs(wildcards):
    """The video, and the face detector's model when collect.detector_model is a URL."""
    video = get_apply_video(wildcards)
    inputs = {"video": video}
    if os.path.dirname(video) == DEMO_EPISODES:
        inputs["demo"] = f"{DEMO_EPISODES}/boundaries.csv"  # make_demo_corpus makes it
    model = COLLECT.get("detector_model")
    if COLLECT.get("detector") == "opencv" and model and "://" in model:
        inputs["model"] = get_detector_model_path()
    return inputs


def get_apply_clips_root(wildcards):
    """The MER2024-layout folder a video's turn clips are cut into (data_root of its
    per-shard jobs)."""
    return f"results/apply/{wildcards.video}/clips"


def get_apply_feature_inputs(wildcards):
    """The video's clip manifest and the shard's audio, faces or transcripts (a
    precomputed feature: its folder of .npy files)."""
    spec = get_feature_spec(wildcards)
    base = f"results/apply/{wildcards.video}"
    key, path = _feature_shard_input(spec, wildcards.shard)
    if key != "precomputed":
        path = path.replace("results/", f"{base}/", 1)
    return {"manifest": get_apply_manifest(wildcards), key: path}


def get_apply_transcribe_inputs(wildcards):
    base = f"results/apply/{wildcards.video}"
    inputs = {"manifest": get_apply_manifest(wildcards)}
    if TRANSCRIPTS_CONFIG.get("asr", True):
        inputs["audio"] = f"{base}/media/{wildcards.shard}/audio.parquet"
    return inputs


def get_apply_shards(wildcards):
    """The video's shards holding a clip (time windows), from the shard list its
    checkpoint export_apply_clips wrote."""
    listing = checkpoints.export_apply_clips.get(video=wildcards.video).output.shards
    return [s["shard"] for s in read_shards(listing)["shards"]]


def get_apply_manifest(wildcards):
    """A video's clip manifest (its checkpoint's output), for a per-shard job: as
    ancient(), a rewritten manifest reruns a window only when its digest changes."""
    return ancient(f"results/apply/{wildcards.video}/clips/manifest.parquet")


@functools.cache
def _apply_window_digests(video, mtime_ns):
    base = f"results/apply/{video}/clips"
    return window_digests(f"{base}/turns.parquet", f"{base}/manifest.parquet")


def get_apply_shard_digest(wildcards):
    """The digest of a window's clips (names, paths, turn times): the per-shard jobs'
    params, so that a change reruns only the windows it touches. Their jobs are planned
    once the checkpoint has written the manifest (read here; not yet cut: a placeholder).
    """
    manifest = f"results/apply/{wildcards.video}/clips/manifest.parquet"
    if not os.path.isfile(manifest):
        return "not cut yet"
    digests = _apply_window_digests(wildcards.video, os.stat(manifest).st_mtime_ns)
    return digests.get(wildcards.shard, "empty shard")


def get_apply_progress(wildcards):
    """What a per-shard job logs of its window ("window 4/12, 00:30:00-00:40:00, 41
    turns"): read from the shard list, which exists once the job is planned."""
    path = f"results/apply/{wildcards.video}/clips/shards.json"
    if not os.path.isfile(path):
        return f"shard {wildcards.shard}"
    shards = {s["shard"]: s for s in read_shards(path)["shards"]}
    return shards.get(wildcards.shard, {}).get("progress", f"shard {wildcards.shard}")


def get_predict_apply_inputs(wildcards):
    """Per shard of the video (known once its checkpoint ran): its transcripts and media
    rejects, and per applied feature its tables as named inputs (``features_<name>``,
    ``flags_<name>``, ``rejects_<name>``: merlib.fusion.dataset.input_files). The model,
    card, turns and manifest are the rule's own inputs."""
    base = f"results/apply/{wildcards.video}"
    shards = get_apply_shards(wildcards)
    inputs = {
        "transcripts": expand(f"{base}/transcripts/{{s}}.parquet", s=shards),
        "media_rejects": expand(f"{base}/media/{{s}}/rejects.parquet", s=shards),
    }
    for table, prefix in FEATURE_INPUT_NAMES.items():
        for feature in APPLY_FEATURES:
            inputs[f"{prefix}_{feature}"] = get_shard_tables(
                table, feature, base, shards
            )
    return inputs


def get_apply_outputs():
    """Everything `apply` makes, for every video of apply.videos_dir."""
    return expand(
        [
            "results/apply/{video}/timeline.parquet",
            "results/apply/{video}/timeline.csv",
            "results/apply/{video}/summary.csv",
            "results/apply/{video}/timeline.png",
            "results/apply/{video}/timeline.html",
            "results/apply/{video}/{video}.emotions.srt",
        ],
        video=sorted(get_apply_videos()),
    ) + (["results/apply/report.html"] if get_apply_videos() else [])


def get_report_apply_inputs(wildcards):
    """The model card and, per video (sorted), its timeline table, page, picture and
    subtitles (the report links them)."""
    videos = sorted(get_apply_videos())
    return {
        "card": APPLY_CARD,
        "timelines": expand("results/apply/{v}/timeline.parquet", v=videos),
        "pages": expand("results/apply/{v}/timeline.html", v=videos),
        "pictures": expand("results/apply/{v}/timeline.png", v=videos),
        "subtitles": expand("results/apply/{v}/{v}.emotions.srt", v=videos),
    }
