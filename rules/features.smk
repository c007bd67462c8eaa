rule extract_features:
    input:
        unpack(get_feature_inputs),
    output:
        features="results/features/{feature}/{shard}.parquet",
        rejects="results/feature_rejects/{feature}/{shard}.parquet",
        flags="results/feature_flags/{feature}/{shard}.parquet",
    log:
        "logs/extract_features/{feature}/{shard}.log",
    benchmark:
        "benchmarks/extract_features/{feature}/{shard}.tsv"
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
        shard_digest=get_features_digest,
    script:
        "../workflow_scripts/extract_features.py"
