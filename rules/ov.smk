# MER-OV: open-vocabulary labels, their synonym groupings and the challenge's set-level scores.


rule derive_ov_labels:
    input:
        labels=f"{DEMO_ROOT}/test-labels.csv",
        transcriptions=f"{DEMO_ROOT}/label-transcription.csv",
    output:
        labels="results/ov/demo/ov-labels.csv",
    log:
        "logs/derive_ov_labels/derive_ov_labels.log",
    benchmark:
        "benchmarks/derive_ov_labels/derive_ov_labels.tsv"
    conda:
        "../envs/ov.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/derive_ov_labels.py"


rule predict_ov_offline:
    input:
        predictions="results/predictions/unlabelled.parquet",
    output:
        openset="results/ov/predictions/{method}.csv",
    log:
        "logs/predict_ov_offline/{method}.log",
    benchmark:
        "benchmarks/predict_ov_offline/{method}.tsv"
    wildcard_constraints:
        method="empty|random|fusion",
    conda:
        "../envs/ov.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seed=config["seed"],
        threshold=config["ov"]["fusion_threshold"],
    script:
        "../workflow_scripts/predict_ov_offline.py"


rule predict_ov_llm:
    input:
        manifest="results/ingest/manifest.parquet",
    output:
        openset="results/ov/predictions/llm.csv",
        descriptions="results/ov/llm/descriptions.csv",
        rejects="results/ov/llm/rejects.parquet",
    log:
        "logs/predict_ov_llm/predict_ov_llm.log",
    benchmark:
        "benchmarks/predict_ov_llm/predict_ov_llm.tsv"
    conda:
        "../envs/ov.yaml"
    threads: 4
    resources:
        mem_mb=4000,
        runtime=1440,
    params:
        llm=config["ov"]["llm"],
        data_root=DATA_ROOT,
    script:
        "../workflow_scripts/predict_ov_llm.py"


rule group_ov_synonyms:
    input:
        gt=get_ov_gt_csv(),
        pred=get_ov_pred_for,
    output:
        groupings="results/ov/synonyms/{grouping}/{pred}.json",
    log:
        "logs/group_ov_synonyms/{grouping}/{pred}.log",
    benchmark:
        "benchmarks/group_ov_synonyms/{grouping}/{pred}.tsv"
    wildcard_constraints:
        grouping="lexicon|encoder|llm",
    conda:
        "../envs/ov.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        lexicon=config["ov"]["lexicon"],
        encoder_threshold=config["ov"]["encoder_threshold"],
        llm=config["ov"]["llm"],
    script:
        "../workflow_scripts/group_ov_synonyms.py"


rule evaluate_ov:
    input:
        gt=get_ov_gt_csv(),
        pred=get_ov_pred_csv(),
        synonyms=get_ov_synonyms(),
    output:
        metrics="results/ov/metrics.json",
        per_clip="results/ov/per_clip.tsv",
    log:
        "logs/evaluate_ov/evaluate_ov.log",
    benchmark:
        "benchmarks/evaluate_ov/evaluate_ov.tsv"
    conda:
        "../envs/ov.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        grouping=get_ov_grouping_source(),
    script:
        "../workflow_scripts/evaluate_ov.py"


rule compare_ov_baselines:
    input:
        gt=get_ov_gt_csv(),
        preds=list(get_ov_baseline_preds().values()),
        synonyms=list(get_ov_baseline_synonyms().values()),
    output:
        table="results/ov/baselines.tsv",
    log:
        "logs/compare_ov_baselines/compare_ov_baselines.log",
    benchmark:
        "benchmarks/compare_ov_baselines/compare_ov_baselines.tsv"
    conda:
        "../envs/ov.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        preds=get_ov_baseline_preds(),
        synonyms=get_ov_baseline_synonyms(),
    script:
        "../workflow_scripts/compare_ov_baselines.py"
