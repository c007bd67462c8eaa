rule transcribe_clips:
    input:
        unpack(get_transcribe_inputs),
    output:
        transcripts="results/transcripts/{shard}.parquet",
    log:
        "logs/transcribe_clips/{shard}.log",
    benchmark:
        "benchmarks/transcribe_clips/{shard}.tsv"
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
        shard_digest=get_transcribe_digest,
    script:
        "../workflow_scripts/transcribe_clips.py"


rule check_asr:
    input:
        unpack(get_asr_check_inputs),
    output:
        clips="results/metrics/asr_check.parquet",
        table="results/metrics/asr_check.tsv",
        summary="results/metrics/asr_check.json",
    log:
        "logs/check_asr/check_asr.log",
    benchmark:
        "benchmarks/check_asr/check_asr.tsv"
    conda:
        "../envs/features.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=120,
        gpu=get_transcribe_gpu(),
    params:
        transcripts=config["transcripts"],
        model_cache="resources/models",
        shard_ids=get_asr_check_shards,
        sample_digest=get_asr_check_digest,
    script:
        "../workflow_scripts/check_asr.py"
