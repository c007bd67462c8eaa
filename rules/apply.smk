# Applying a trained model to new videos (target `apply`, not in the default target): per
# video, speaker turns with no dataset filter, each turn a clip, then the release's own
# per-shard media, transcript and feature scripts on those clips, the fusion model's
# prediction, and the timeline (table, picture, subtitles). docs/apply.md.
from merlib.apply.card import CardError, check_features, read_card  # noqa: E402
from merlib.apply.videos import list_videos as list_apply_videos  # noqa: E402

APPLY = config["apply"]
APPLY_MODEL_DIR = os.path.normpath(APPLY["model_dir"] or "results")
APPLY_MODEL = f"{APPLY_MODEL_DIR}/fusion/model.pt"
APPLY_CARD = f"{APPLY_MODEL_DIR}/fusion/model_card.json"
APPLY_SHARDS = shard_ids(APPLY["shards"])


@functools.cache
def get_apply_videos():
    """Video id -> path under apply.videos_dir ({} when apply is off); listed once."""
    if not APPLY["videos_dir"]:
        return {}
    return list_apply_videos(APPLY["videos_dir"])


def get_apply_features():
    """The features applied: the model card's when it exists (another run's model, or
    this one's already trained), else fusion.features (the model is trained first). Each
    must be configured with the options the card names: a difference fails the DAG."""
    if APPLY["model_dir"] and not os.path.isfile(APPLY_CARD):
        raise ValueError(
            f"apply.model_dir {APPLY['model_dir']!r}: no model card {APPLY_CARD}. Please "
            "point it at a merflow results folder with fusion/model.pt and "
            "fusion/model_card.json (written by train_fusion)."
        )
    if not os.path.isfile(APPLY_CARD):
        return list(FUSION_FEATURES)
    card = read_card(APPLY_CARD)
    names = [f["name"] for f in card["features"]]
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(
            f"{APPLY_CARD}: the model needs feature(s) {', '.join(unknown)}, which config "
            f"'features' does not define (known: {', '.join(FEATURES)})."
        )
    check_features(card, names, {n: FEATURES[n] for n in names}, where=APPLY_CARD)
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
    inputs = {"video": get_apply_video(wildcards)}
    model = COLLECT.get("detector_model")
    if COLLECT.get("detector") == "opencv" and model and "://" in model:
        inputs["model"] = get_detector_model_path()
    return inputs


def get_apply_clips_root(wildcards):
    """The MER2024-layout folder a video's turn clips are cut into (data_root of its
    per-shard jobs)."""
    return f"results/apply/{wildcards.video}/clips"


def get_apply_feature_inputs(wildcards):
    """The video's clip manifest and the shard's audio, faces or transcripts."""
    modality = get_feature_spec(wildcards).get("modality")
    base = f"results/apply/{wildcards.video}"
    key, path = _feature_shard_input(modality, wildcards.shard)
    path = path.replace("results/", f"{base}/", 1)
    return {"manifest": f"{base}/clips/manifest.parquet", key: path}


def get_apply_transcribe_inputs(wildcards):
    base = f"results/apply/{wildcards.video}"
    inputs = {"manifest": f"{base}/clips/manifest.parquet"}
    if TRANSCRIPTS_CONFIG.get("asr", True):
        inputs["audio"] = f"{base}/media/{wildcards.shard}/audio.parquet"
    return inputs


def _apply_tables(video, table):
    """Feature -> the video's per-shard files of one features-stage table."""
    return {
        f: expand(
            "results/apply/{video}/{table}/{feature}/{shard}.parquet",
            video=video,
            table=table,
            feature=f,
            shard=APPLY_SHARDS,
        )
        for f in APPLY_FEATURES
    }


def get_predict_apply_inputs(wildcards):
    base = f"results/apply/{wildcards.video}"
    files = _apply_tables(wildcards.video, "features")
    flags = _apply_tables(wildcards.video, "feature_flags")
    rejects = _apply_tables(wildcards.video, "feature_rejects")
    return {
        "model": APPLY_MODEL,
        "card": APPLY_CARD,
        "turns": f"{base}/clips/turns.parquet",
        "manifest": f"{base}/clips/manifest.parquet",
        "transcripts": expand(f"{base}/transcripts/{{s}}.parquet", s=APPLY_SHARDS),
        "media_rejects": expand(f"{base}/media/{{s}}/rejects.parquet", s=APPLY_SHARDS),
        "features": [p for f in APPLY_FEATURES for p in files[f]],
        "flags": [p for f in APPLY_FEATURES for p in flags[f]],
        "feature_rejects": [p for f in APPLY_FEATURES for p in rejects[f]],
    }


def get_apply_feature_files(wildcards):
    return _apply_tables(wildcards.video, "features")


def get_apply_flag_files(wildcards):
    return _apply_tables(wildcards.video, "feature_flags")


def get_apply_reject_files(wildcards):
    return _apply_tables(wildcards.video, "feature_rejects")


def get_apply_outputs():
    """Everything `apply` makes, for every video of apply.videos_dir."""
    return expand(
        [
            "results/apply/{video}/timeline.parquet",
            "results/apply/{video}/timeline.csv",
            "results/apply/{video}/summary.csv",
            "results/apply/{video}/timeline.png",
            "results/apply/{video}/{video}.emotions.srt",
        ],
        video=sorted(get_apply_videos()),
    )


rule apply:
    """Emotion timelines of every video in apply.videos_dir (docs/apply.md)."""
    input:
        get_apply_outputs(),


rule segment_apply_video:
    input:
        unpack(get_segment_apply_inputs),
    output:
        turns="results/apply/{video}/turns.parquet",
    log:
        "logs/segment_apply_video/{video}.log",
    benchmark:
        "benchmarks/segment_apply_video/{video}.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        collect=get_collect_params(),
        speaker_similarity=APPLY["speaker_similarity"],
    script:
        "../workflow_scripts/apply_segment_video.py"


rule export_apply_clips:
    input:
        video=get_apply_video,
        turns="results/apply/{video}/turns.parquet",
    output:
        turns="results/apply/{video}/clips/turns.parquet",
        manifest="results/apply/{video}/clips/manifest.parquet",
    log:
        "logs/export_apply_clips/{video}.log",
    benchmark:
        "benchmarks/export_apply_clips/{video}.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 2
    resources:
        mem_mb=1000,
        runtime=120,
    params:
        clips_root=get_apply_clips_root,
        shards=APPLY["shards"],
        timeout=COLLECT.get("timeout", 3600),
    script:
        "../workflow_scripts/apply_export_clips.py"


# The three per-shard steps run the release's own scripts on the turn clips (same input,
# output and params names): one implementation of media, ASR and features for both.
rule extract_apply_media:
    input:
        manifest="results/apply/{video}/clips/manifest.parquet",
    output:
        audio="results/apply/{video}/media/{shard}/audio.parquet",
        faces="results/apply/{video}/media/{shard}/faces.parquet",
        rejects="results/apply/{video}/media/{shard}/rejects.parquet",
    log:
        "logs/extract_apply_media/{video}/{shard}.log",
    benchmark:
        "benchmarks/extract_apply_media/{video}/{shard}.tsv"
    conda:
        "../envs/media.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        data_root=get_apply_clips_root,
        media=config["media"],
    script:
        "../workflow_scripts/extract_media.py"


rule transcribe_apply_clips:
    input:
        unpack(get_apply_transcribe_inputs),
    output:
        transcripts="results/apply/{video}/transcripts/{shard}.parquet",
    log:
        "logs/transcribe_apply_clips/{video}/{shard}.log",
    benchmark:
        "benchmarks/transcribe_apply_clips/{video}/{shard}.tsv"
    conda:
        "../envs/features.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=240,
        gpu=get_transcribe_gpu(),
    params:
        transcripts=TRANSCRIPTS_CONFIG,
        model_cache="resources/models",
    script:
        "../workflow_scripts/transcribe_clips.py"


rule extract_apply_features:
    input:
        unpack(get_apply_feature_inputs),
    output:
        features="results/apply/{video}/features/{feature}/{shard}.parquet",
        rejects="results/apply/{video}/feature_rejects/{feature}/{shard}.parquet",
        flags="results/apply/{video}/feature_flags/{feature}/{shard}.parquet",
    log:
        "logs/extract_apply_features/{video}/{feature}/{shard}.log",
    benchmark:
        "benchmarks/extract_apply_features/{video}/{feature}/{shard}.tsv"
    conda:
        "../envs/features.yaml"
    threads: 2
    resources:
        mem_mb=get_feature_mem_mb,
        runtime=120,
        gpu=get_feature_gpu,
        gpu_mem_mb=get_feature_gpu_mem_mb,
    params:
        feature="{feature}",
        spec=get_feature_spec,
        batch_size=32,
        model_cache="resources/models",
    script:
        "../workflow_scripts/extract_features.py"


rule predict_apply_turns:
    input:
        unpack(get_predict_apply_inputs),
    output:
        timeline="results/apply/{video}/timeline.parquet",
        csv="results/apply/{video}/timeline.csv",
        summary="results/apply/{video}/summary.csv",
    log:
        "logs/predict_apply_turns/{video}.log",
    benchmark:
        "benchmarks/predict_apply_turns/{video}.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        specs={f: FEATURES[f] for f in APPLY_FEATURES},
        modalities={f: FEATURES[f]["modality"] for f in APPLY_FEATURES},
        feature_files=get_apply_feature_files,
        flag_files=get_apply_flag_files,
        reject_files=get_apply_reject_files,
    script:
        "../workflow_scripts/apply_predict_turns.py"


rule render_apply_timeline:
    input:
        timeline="results/apply/{video}/timeline.parquet",
    output:
        png="results/apply/{video}/timeline.png",
        srt="results/apply/{video}/{video}.emotions.srt",
    log:
        "logs/render_apply_timeline/{video}.log",
    benchmark:
        "benchmarks/render_apply_timeline/{video}.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow_scripts/apply_render_timeline.py"
