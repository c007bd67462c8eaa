wildcard_constraints:
    combination=r"\d+",


rule search_fusion:
    input:
        manifest="results/ingest/manifest.parquet",
        features=list(get_fusion_feature_files().values()),
        flags=list(get_fusion_flag_files().values()),
        noisy_features=list(get_augment_feature_files().values()),
        noisy_flags=list(get_augment_flag_files().values()),
    output:
        record="results/search/combinations/{combination}.json",
    log:
        "logs/search_fusion/{combination}.log",
    benchmark:
        "benchmarks/search_fusion/{combination}.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=get_fusion_gpu,
    params:
        features=FUSION_FEATURES,
        feature_files=get_fusion_feature_files(),
        flag_files=get_fusion_flag_files(),
        noisy_files=get_augment_feature_files(),
        noisy_flag_files=get_augment_flag_files(),
        fusion=config["fusion"],
        seed=config["seed"],
        combination=get_search_combination,
    script:
        "../workflow_scripts/search_fusion.py"


rule select_hyperparameters:
    input:
        records=get_search_records(),
    output:
        selected="results/search/selected.json",
        table="results/search/search.tsv",
        plot=report(
            "results/search/search.png",
            caption="../report/search.rst",
            category="Random search",
        ),
    log:
        "logs/select_hyperparameters/select_hyperparameters.log",
    benchmark:
        "benchmarks/select_hyperparameters/select_hyperparameters.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow_scripts/select_hyperparameters.py"
