rule train_fusion:
    input:
        unpack(feature_inputs(augment=True)),
        manifest="results/ingest/manifest.parquet",
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
        labels=LABEL_SET,
        features=FUSION_FEATURES,
        fusion=FUSION_SETTINGS,
        specs={name: config["features"][name] for name in FUSION_FEATURES},
        seed=config["seed"],
    script:
        "../workflow_scripts/train_fusion.py"


rule predict_unlabelled:
    input:
        unpack(feature_inputs()),
        manifest="results/ingest/manifest.parquet",
        model="results/fusion/model.pt",
    output:
        predictions="results/predictions/unlabelled.parquet",
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
        labels=LABEL_SET,
        features=FUSION_FEATURES,
    script:
        "../workflow_scripts/predict_unlabelled.py"


rule self_train_fusion:
    input:
        unpack(feature_inputs(augment=True)),
        manifest="results/ingest/manifest.parquet",
        model="results/fusion/model.pt",
        folds="results/fusion/folds.json",
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
        labels=LABEL_SET,
        features=FUSION_FEATURES,
        threshold=SELF_TRAINING["threshold"],
        rounds=SELF_TRAINING["rounds"],
    script:
        "../workflow_scripts/self_train_fusion.py"


rule write_submission:
    """The challenge CSV from the model submission.model names (auto: the better CV WAF)."""
    input:
        unpack(get_self_training_results),
        supervised="results/predictions/unlabelled.parquet",
    output:
        submission="results/submission/mer2024-semi-noise.csv",
        choice="results/submission/choice.json",
    log:
        "logs/write_submission/write_submission.log",
    benchmark:
        "benchmarks/write_submission/write_submission.tsv"
    conda:
        "../envs/fusion.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        model=config["submission"]["model"],
        labels=LABEL_SET,
    script:
        "../workflow_scripts/write_submission.py"
