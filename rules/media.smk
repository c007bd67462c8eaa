rule extract_media:
    input:
        manifest=get_shard_manifest,
    output:
        audio="results/media/{shard}/audio.parquet",
        faces="results/media/{shard}/faces.parquet",
        rejects="results/media/{shard}/rejects.parquet",
    log:
        "logs/extract_media/{shard}.log",
    benchmark:
        "benchmarks/extract_media/{shard}.tsv"
    conda:
        "../envs/media.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        data_root=DATA_ROOT,
        media=config["media"],
        shard_digest=get_media_digest,
    script:
        "../workflow_scripts/extract_media.py"
