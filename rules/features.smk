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


# One job over several shards (feature_jobs.shards_per_job): the model loads once for
# them all; the files are extract_features' own (rules/common.smk, get_feature_jobs).
for _rule, _feature, _shards in get_feature_jobs():
    _resources = feature_resources(FEATURES[_feature])

    rule:
        name:
            _rule
        input:
            unpack(get_feature_job_inputs(_feature, _shards)),
        output:
            features=get_shard_tables("features", _feature, shards=_shards),
            rejects=get_shard_tables("feature_rejects", _feature, shards=_shards),
            flags=get_shard_tables("feature_flags", _feature, shards=_shards),
        log:
            f"logs/extract_features/{_feature}/{_shards[0]}-{_shards[-1]}.log",
        benchmark:
            f"benchmarks/extract_features/{_feature}/{_shards[0]}-{_shards[-1]}.tsv"
        conda:
            "../envs/features.yaml"
        threads: 2
        resources:
            mem_mb=_resources["mem_mb"],
            runtime=120 * len(_shards),
            gpu=_resources["gpu"],
            gpu_mem_mb=_resources["gpu_mem_mb"],
        params:
            feature=_feature,
            spec=FEATURES[_feature],
            shards=_shards,
            batch_size=32,
            model_cache="resources/models",
            shard_digest=get_feature_job_digests(_shards),
        script:
            "../workflow_scripts/extract_features.py"
