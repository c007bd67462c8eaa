# Collection: long videos -> candidate segments -> one-speaker one-face clips in the
# MER2024 layout (collect.output_root), one job per source video.


wildcard_constraints:
    video=r"[A-Za-z0-9_-]+",


rule fetch_face_detector:
    output:
        model=get_detector_model_path(),
    log:
        "logs/fetch_face_detector/fetch_face_detector.log",
    benchmark:
        "benchmarks/fetch_face_detector/fetch_face_detector.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        url=COLLECT.get("detector_model"),
        sha256=COLLECT.get("detector_sha256"),
    script:
        "../workflow_scripts/fetch_face_detector.py"


rule cut_segments:
    input:
        unpack(get_cut_segments_inputs),
    output:
        segments="results/collect/segments/{video}.parquet",
    log:
        "logs/cut_segments/{video}.log",
    benchmark:
        "benchmarks/cut_segments/{video}.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        collect=get_collect_params(),
    script:
        "../workflow_scripts/cut_segments.py"


rule filter_clips:
    input:
        unpack(get_filter_clips_inputs),
    output:
        decisions="results/collect/filtered/{video}.parquet",
    log:
        "logs/filter_clips/{video}.log",
    benchmark:
        "benchmarks/filter_clips/{video}.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        collect=get_collect_params(),
    script:
        "../workflow_scripts/filter_clips.py"


rule export_clips:
    input:
        video=get_collect_video,
        decisions="results/collect/filtered/{video}.parquet",
    output:
        clips="results/collect/exported/{video}.parquet",
    log:
        "logs/export_clips/{video}.log",
    benchmark:
        "benchmarks/export_clips/{video}.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 2
    resources:
        mem_mb=1000,
        runtime=120,
    params:
        output_root=COLLECT_ROOT,
        timeout=COLLECT.get("timeout", 3600),
        asr=get_collect_asr(),
    script:
        "../workflow_scripts/export_clips.py"


rule gather_clips:
    input:
        exported=get_exported_clips(),
    output:
        clips="results/collect/clips.parquet",
        transcriptions=f"{COLLECT_ROOT}/label-transcription.csv",
        labels=f"{COLLECT_ROOT}/label-disdim.csv",
    log:
        "logs/gather_clips/gather_clips.log",
    benchmark:
        "benchmarks/gather_clips/gather_clips.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/gather_clips.py"


rule select_for_annotation:
    input:
        predictions=COLLECT.get("annotation", {}).get("predictions") or [],
    output:
        selected="results/collect/annotation/selected.csv",
    log:
        "logs/select_for_annotation/select_for_annotation.log",
    benchmark:
        "benchmarks/select_for_annotation/select_for_annotation.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        size=COLLECT.get("annotation", {}).get("size", 120),
    script:
        "../workflow_scripts/select_for_annotation.py"


rule agree_labels:
    input:
        annotators=COLLECT.get("annotation", {}).get("annotators", []),
    output:
        agreed="results/collect/annotation/agreed.csv",
    log:
        "logs/agree_labels/agree_labels.log",
    benchmark:
        "benchmarks/agree_labels/agree_labels.tsv"
    conda:
        "../envs/collect.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        min_agree=COLLECT.get("annotation", {}).get("min_agree", 4),
    script:
        "../workflow_scripts/agree_labels.py"
