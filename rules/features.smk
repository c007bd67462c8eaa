rule extract_features:
    input:
        manifest="results/ingest/manifest.parquet",
        audio="results/media/{shard}/audio.parquet",
        faces="results/media/{shard}/faces.parquet",
    output:
        features="results/features/{feature}/{shard}.parquet",
        rejects="results/feature_rejects/{feature}/{shard}.parquet",
    log:
        "logs/extract_features/{feature}/{shard}.log",
    benchmark:
        "benchmarks/extract_features/{feature}/{shard}.tsv"
    conda:
        "../envs/features.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=0,
    params:
        feature="{feature}",
        spec=get_feature_spec,
        batch_size=32,
    script:
        "../workflow_scripts/extract_features.py"
