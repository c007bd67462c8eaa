rule train_fusion:
    input:
        manifest="results/ingest/manifest.parquet",
        features=list(get_fusion_feature_files().values()),
        flags=list(get_fusion_flag_files().values()),
        noisy_features=list(get_augment_feature_files().values()),
        noisy_flags=list(get_augment_flag_files().values()),
        selected=get_selected_params(),
    output:
        model="results/fusion/model.pt",
        oof="results/fusion/oof.parquet",
        folds="results/fusion/folds.json",
        card="results/fusion/model_card.json",
    log:
        "logs/train_fusion/train_fusion.log",
    benchmark:
        "benchmarks/train_fusion/train_fusion.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=get_fusion_gpu,
    params:
        features=FUSION_FEATURES,
        specs={name: config["features"][name] for name in FUSION_FEATURES},
        feature_files=get_fusion_feature_files(),
        flag_files=get_fusion_flag_files(),
        noisy_files=get_augment_feature_files(),
        noisy_flag_files=get_augment_flag_files(),
        fusion=config["fusion"],
        seed=config["seed"],
    script:
        "../workflow_scripts/train_fusion.py"


rule predict_unlabelled:
    input:
        manifest="results/ingest/manifest.parquet",
        model="results/fusion/model.pt",
        features=list(get_fusion_feature_files().values()),
        flags=list(get_fusion_flag_files().values()),
    output:
        predictions="results/predictions/unlabelled.parquet",
        submission="results/submission/mer2024-semi-noise.csv",
        fallbacks="results/predictions/fallbacks.parquet",
    log:
        "logs/predict_unlabelled/predict_unlabelled.log",
    benchmark:
        "benchmarks/predict_unlabelled/predict_unlabelled.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        features=FUSION_FEATURES,
        feature_files=get_fusion_feature_files(),
        flag_files=get_fusion_flag_files(),
    script:
        "../workflow_scripts/predict_unlabelled.py"


rule self_train_fusion:
    input:
        manifest="results/ingest/manifest.parquet",
        model="results/fusion/model.pt",
        folds="results/fusion/folds.json",
        features=list(get_fusion_feature_files().values()),
        flags=list(get_fusion_flag_files().values()),
        noisy_features=list(get_augment_feature_files().values()),
        noisy_flags=list(get_augment_flag_files().values()),
    output:
        record="results/self_training/record.json",
        predictions="results/self_training/unlabelled.parquet",
    log:
        "logs/self_train_fusion/self_train_fusion.log",
    benchmark:
        "benchmarks/self_train_fusion/self_train_fusion.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=0,
    params:
        feature_files=get_fusion_feature_files(),
        flag_files=get_fusion_flag_files(),
        noisy_files=get_augment_feature_files(),
        noisy_flag_files=get_augment_flag_files(),
        threshold=SELF_TRAINING["threshold"],
        rounds=SELF_TRAINING["rounds"],
    script:
        "../workflow_scripts/self_train_fusion.py"
