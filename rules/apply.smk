# Applying a trained model to new videos (target `apply`, not in the default target): per
# video, speaker turns with no dataset filter, each turn a clip, then the release's own
# per-shard media, transcript and feature scripts on those clips, the fusion model's
# prediction, and the timeline (table, picture, interactive page, subtitles); then one
# report page over every video (report_apply). docs/apply.md.


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
        face_distance=APPLY["face_distance"],
    script:
        "../workflow_scripts/segment_apply_video.py"


# A checkpoint: a video's shards are its time windows holding a turn (apply.window_s,
# apply.shards hash parts in each), known once its turns are cut; the per-shard jobs are
# planned from the shard list it writes (get_apply_shards).
checkpoint export_apply_clips:
    input:
        video=get_apply_video,
        turns="results/apply/{video}/turns.parquet",
    output:
        turns="results/apply/{video}/clips/turns.parquet",
        manifest="results/apply/{video}/clips/manifest.parquet",
        shards="results/apply/{video}/clips/shards.json",
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
        window_s=APPLY["window_s"],
        timeout=COLLECT.get("timeout", 3600),
    script:
        "../workflow_scripts/export_apply_clips.py"


# The three per-shard steps are the release's own rules on the turn clips (their scripts,
# env and resources): one implementation of media, ASR and features for both. They read
# the video's manifest as ancient() and carry their window's digest (a change reruns only
# the windows it touches); each logs its window (params.progress: "window 4/12, 00:30:00-00:40:00, 41 turns").
use rule extract_media as extract_apply_media with:
    input:
        manifest=get_apply_manifest,
    output:
        audio="results/apply/{video}/media/{shard}/audio.parquet",
        faces="results/apply/{video}/media/{shard}/faces.parquet",
        rejects="results/apply/{video}/media/{shard}/rejects.parquet",
    log:
        "logs/extract_apply_media/{video}/{shard}.log",
    benchmark:
        "benchmarks/extract_apply_media/{video}/{shard}.tsv"
    wildcard_constraints:
        shard=APPLY_SHARD_PATTERN,
    params:
        data_root=get_apply_clips_root,
        media=config["media"],
        shard_digest=get_apply_shard_digest,
        progress=get_apply_progress,


use rule transcribe_clips as transcribe_apply_clips with:
    input:
        unpack(get_apply_transcribe_inputs),
    output:
        transcripts="results/apply/{video}/transcripts/{shard}.parquet",
    log:
        "logs/transcribe_apply_clips/{video}/{shard}.log",
    benchmark:
        "benchmarks/transcribe_apply_clips/{video}/{shard}.tsv"
    wildcard_constraints:
        shard=APPLY_SHARD_PATTERN,
    params:
        transcripts=TRANSCRIPTS_CONFIG,
        model_cache="resources/models",
        shard_digest=get_apply_shard_digest,
        progress=get_apply_progress,


use rule extract_features as extract_apply_features with:
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
    wildcard_constraints:
        shard=APPLY_SHARD_PATTERN,
    params:
        feature="{feature}",
        spec=get_feature_spec,
        batch_size=32,
        model_cache="resources/models",
        shard_digest=get_apply_shard_digest,
        progress=get_apply_progress,


rule predict_apply_turns:
    input:
        unpack(get_predict_apply_inputs),
        model=APPLY_MODEL,
        card=APPLY_CARD,
        turns="results/apply/{video}/clips/turns.parquet",
        manifest="results/apply/{video}/clips/manifest.parquet",
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
    script:
        "../workflow_scripts/predict_apply_turns.py"


rule render_apply_timeline:
    input:
        timeline="results/apply/{video}/timeline.parquet",
    output:
        png="results/apply/{video}/timeline.png",
        html="results/apply/{video}/timeline.html",
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
        "../workflow_scripts/render_apply_timeline.py"


rule report_apply:
    input:
        unpack(get_report_apply_inputs),
    output:
        report="results/apply/report.html",
    log:
        "logs/report_apply/report_apply.log",
    benchmark:
        "benchmarks/report_apply/report_apply.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        videos=sorted(get_apply_videos()),
    script:
        "../workflow_scripts/report_apply.py"
