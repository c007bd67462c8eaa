# MER-NOISE: a noisy copy of the evaluation clips (speech noise from MUSAN, blur), and the
# trained fusion model scored on it beside the clean copy. Only wired when noise.musan_dir
# is set (see get_noise_outputs in common.smk). With noise.augment_training, a second
# noisy copy, of the labelled clips, under results/noise/train/, feeds the fusion's
# training (rules/fusion.smk, rules/search.smk).


rule inject_noise:
    input:
        manifest="results/ingest/manifest.parquet",
        musan=get_noise_corpus,
    output:
        table="results/noise/shards/{shard}.parquet",
        rejects="results/noise/rejects/{shard}.parquet",
        clips=directory("results/noise/clips/{shard}"),
    log:
        "logs/inject_noise/{shard}.log",
    benchmark:
        "benchmarks/inject_noise/{shard}.tsv"
    conda:
        "../envs/media.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        data_root=DATA_ROOT,
        noise=NOISE_PARAMS,
        split="unlabeled",
    script:
        "../workflow_scripts/inject_noise.py"


rule collect_noise_table:
    input:
        manifest="results/ingest/manifest.parquet",
        tables=expand("results/noise/shards/{shard}.parquet", shard=SHARDS),
        rejects=expand("results/noise/rejects/{shard}.parquet", shard=SHARDS),
    output:
        table="results/noise/noise.parquet",
        rejects="results/noise/rejects.parquet",
        manifest="results/noise/manifest.parquet",
    log:
        "logs/collect_noise_table/collect_noise_table.log",
    benchmark:
        "benchmarks/collect_noise_table/collect_noise_table.tsv"
    conda:
        "../envs/media.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        clips_root=NOISE_CLIPS,
    script:
        "../workflow_scripts/collect_noise_table.py"


use rule extract_media as extract_noisy_media with:
    input:
        manifest="results/noise/manifest.parquet",
        clips="results/noise/clips/{shard}",
    output:
        audio="results/noise/media/{shard}/audio.parquet",
        faces="results/noise/media/{shard}/faces.parquet",
        rejects="results/noise/media/{shard}/rejects.parquet",
    log:
        "logs/extract_noisy_media/{shard}.log",
    benchmark:
        "benchmarks/extract_noisy_media/{shard}.tsv"
    params:
        data_root=get_noisy_data_root,
        media=config["media"],
        shard_digest=NO_SHARD_DIGEST,


use rule extract_features as extract_noisy_features with:
    input:
        manifest="results/noise/manifest.parquet",
        audio="results/noise/media/{shard}/audio.parquet",
        faces="results/noise/media/{shard}/faces.parquet",
    output:
        features="results/noise/features/{feature}/{shard}.parquet",
        rejects="results/noise/feature_rejects/{feature}/{shard}.parquet",
        flags="results/noise/feature_flags/{feature}/{shard}.parquet",
    log:
        "logs/extract_noisy_features/{feature}/{shard}.log",
    benchmark:
        "benchmarks/extract_noisy_features/{feature}/{shard}.tsv"
    params:
        shard_digest=NO_SHARD_DIGEST,


use rule predict_unlabelled as predict_noisy_clips with:
    input:
        unpack(feature_inputs(root="results/noise")),
        manifest="results/noise/manifest.parquet",
        model="results/fusion/model.pt",
    output:
        predictions="results/noise/predictions.parquet",
        submission="results/noise/submission.csv",
        fallbacks="results/noise/fallbacks.parquet",
    log:
        "logs/predict_noisy_clips/predict_noisy_clips.log",
    benchmark:
        "benchmarks/predict_noisy_clips/predict_noisy_clips.tsv"


rule evaluate_robustness:
    input:
        clean="results/predictions/unlabelled.parquet",
        noisy="results/noise/predictions.parquet",
        noise="results/noise/noise.parquet",
        test_labels=get_robustness_labels,
        folds="results/fusion/folds.json",
    output:
        summary="results/noise/robustness.json",
        table="results/noise/robustness.tsv",
    log:
        "logs/evaluate_robustness/evaluate_robustness.log",
    benchmark:
        "benchmarks/evaluate_robustness/evaluate_robustness.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/evaluate_robustness.py"


# --- noise augmentation (noise.augment_training): the labelled clips' noisy copy ---------


use rule inject_noise as inject_training_noise with:
    output:
        table=f"{NOISE_TRAIN}/shards/{{shard}}.parquet",
        rejects=f"{NOISE_TRAIN}/rejects/{{shard}}.parquet",
        clips=directory(f"{NOISE_TRAIN}/clips/{{shard}}"),
    log:
        "logs/inject_training_noise/{shard}.log",
    benchmark:
        "benchmarks/inject_training_noise/{shard}.tsv"
    params:
        data_root=DATA_ROOT,
        noise=NOISE_PARAMS,
        split="labeled",


use rule collect_noise_table as collect_training_noise_table with:
    input:
        manifest="results/ingest/manifest.parquet",
        tables=expand(f"{NOISE_TRAIN}/shards/{{shard}}.parquet", shard=SHARDS),
        rejects=expand(f"{NOISE_TRAIN}/rejects/{{shard}}.parquet", shard=SHARDS),
    output:
        table=f"{NOISE_TRAIN}/noise.parquet",
        rejects=f"{NOISE_TRAIN}/rejects.parquet",
        manifest=f"{NOISE_TRAIN}/manifest.parquet",
    log:
        "logs/collect_training_noise_table/collect_training_noise_table.log",
    benchmark:
        "benchmarks/collect_training_noise_table/collect_training_noise_table.tsv"
    params:
        clips_root=f"{NOISE_TRAIN}/clips",


use rule extract_media as extract_training_noisy_media with:
    input:
        manifest=f"{NOISE_TRAIN}/manifest.parquet",
        clips=f"{NOISE_TRAIN}/clips/{{shard}}",
    output:
        audio=f"{NOISE_TRAIN}/media/{{shard}}/audio.parquet",
        faces=f"{NOISE_TRAIN}/media/{{shard}}/faces.parquet",
        rejects=f"{NOISE_TRAIN}/media/{{shard}}/rejects.parquet",
    log:
        "logs/extract_training_noisy_media/{shard}.log",
    benchmark:
        "benchmarks/extract_training_noisy_media/{shard}.tsv"
    params:
        data_root=get_noisy_data_root,
        media=config["media"],
        shard_digest=NO_SHARD_DIGEST,


use rule extract_features as extract_training_noisy_features with:
    input:
        manifest=f"{NOISE_TRAIN}/manifest.parquet",
        audio=f"{NOISE_TRAIN}/media/{{shard}}/audio.parquet",
        faces=f"{NOISE_TRAIN}/media/{{shard}}/faces.parquet",
    output:
        features=f"{NOISE_TRAIN}/features/{{feature}}/{{shard}}.parquet",
        rejects=f"{NOISE_TRAIN}/feature_rejects/{{feature}}/{{shard}}.parquet",
        flags=f"{NOISE_TRAIN}/feature_flags/{{feature}}/{{shard}}.parquet",
    log:
        "logs/extract_training_noisy_features/{feature}/{shard}.log",
    benchmark:
        "benchmarks/extract_training_noisy_features/{feature}/{shard}.tsv"
    params:
        shard_digest=NO_SHARD_DIGEST,
