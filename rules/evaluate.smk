rule evaluate_predictions:
    input:
        unpack(get_self_training_results),
        oof="results/fusion/oof.parquet",
        folds="results/fusion/folds.json",
        predictions="results/predictions/unlabelled.parquet",
        submission_choice="results/submission/choice.json",
        test_labels=get_test_labels(),
        candidates=get_candidates(),
        asr_check="results/metrics/asr_check.json",
    output:
        summary="results/metrics/summary.json",
        confusion=report(
            "results/metrics/confusion.png",
            caption="../report/confusion.rst",
            category="Evaluation",
        ),
        per_class="results/metrics/per_class.tsv",
        per_class_plot=report(
            "results/metrics/per_class_f1.png",
            caption="../report/per_class.rst",
            category="Evaluation",
        ),
    log:
        "logs/evaluate_predictions/evaluate_predictions.log",
    benchmark:
        "benchmarks/evaluate_predictions/evaluate_predictions.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        labels=LABEL_SET,
    script:
        "../workflow_scripts/evaluate_predictions.py"


rule account_clips:
    input:
        unpack(feature_inputs(tables=("feature_rejects", "feature_flags"))),
        manifest="results/ingest/manifest.parquet",
        ingest_rejects="results/ingest/rejects.parquet",
        media_rejects=expand("results/media/{shard}/rejects.parquet", shard=SHARDS),
        folds="results/fusion/folds.json",
        fallbacks="results/predictions/fallbacks.parquet",
        transcripts=get_transcript_files(),
    output:
        accounting="results/metrics/accounting.parquet",
    log:
        "logs/account_clips/account_clips.log",
    benchmark:
        "benchmarks/account_clips/account_clips.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        features=FUSION_FEATURES,
    script:
        "../workflow_scripts/account_clips.py"
