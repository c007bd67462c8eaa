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
